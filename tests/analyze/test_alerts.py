"""Alert rules: hysteresis/de-duplication, thresholds, EWMA (vs pandas) and robust z (vs closed form)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from otel_impact.analyze.alerts import (
    DEFAULT_THRESHOLDS,
    MAD_SCALE,
    Persistence,
    adaptive_test,
    alerts_from_condition,
    dispersion,
    drop_condition,
    episodes,
    ewma_baseline,
    fdr_condition,
    gate,
    robust_z,
    threshold_condition,
)


def test_persisting_condition_alerts_once_and_recovery_is_reported() -> None:
    cond = [0, 1, 1, 1, 0, 1, 1, 0, 0, 0, 1]
    trans = episodes(cond, clear_after=2)
    assert [(t.index, t.state) for t in trans] == [(1, "firing"), (8, "resolved"), (10, "firing")]
    # trigger_after requires consecutive true buckets; NaN neither triggers nor clears
    trans = episodes([1, 0, 1, float("nan"), 1, 0, 0], trigger_after=2, clear_after=2)
    assert [(t.index, t.state) for t in trans] == [(4, "firing"), (6, "resolved")]


def test_default_thresholds_from_the_source_material() -> None:
    assert DEFAULT_THRESHOLDS == {
        "accuracy_drop": 0.02,
        "latency_p95_ms": 200.0,
        "drift_score": 0.7,
        "business_impact": 0.005,
    }
    latency = [120.0, 180.0, 230.0, 250.0, 190.0, 150.0, float("nan")]
    cond = threshold_condition(latency, ">", DEFAULT_THRESHOLDS["latency_p95_ms"])
    assert list(cond[:6]) == [0, 0, 1, 1, 0, 0] and math.isnan(cond[6])
    alerts = alerts_from_condition(
        "latency_p95",
        cond,
        values=latency,
        describe=lambda state, value: state + " p95 " + format(value, ".0f") + " ms",
        severity="critical",
        policy=Persistence(1, 1, 2),
    )
    assert [(a.index, a.state, a.severity) for a in alerts] == [
        (2, "firing", "critical"),
        (5, "resolved", "info"),
    ]
    assert alerts[0].message == "firing p95 230 ms" and alerts[0].value == 230.0
    # the default policy (2 of 3, clear after 3) needs a second bad bucket and three good ones
    default = alerts_from_condition("latency_p95", cond, describe=lambda s, v: s)
    assert [(a.index, a.state) for a in default] == [(3, "firing")]


def test_ewma_baseline_matches_pandas_shifted() -> None:
    rng = np.random.default_rng(0)
    v = rng.normal(size=50).cumsum()
    ours = ewma_baseline(v, halflife=5)
    ref = pd.Series(v).ewm(halflife=5, adjust=False).mean().shift(1).to_numpy()
    np.testing.assert_allclose(ours[1:], ref[1:], rtol=1e-12)
    assert math.isnan(ours[0])


def test_robust_z_matches_closed_form_and_flags_a_spike() -> None:
    rng = np.random.default_rng(1)
    v = 100 + rng.normal(size=60)
    v[45] += 12.0
    z = robust_z(v, halflife=7, window=28, min_history=7)
    base = ewma_baseline(v, 7)
    past = (v - base)[45 - 28 : 45]
    scale = MAD_SCALE * np.median(np.abs(past - np.median(past)))
    assert z[45] == pytest.approx((v[45] - base[45]) / scale, rel=1e-12)
    assert abs(z[45]) > 6
    assert np.nanmax(np.abs(np.delete(z, 45))) < 6
    assert np.isnan(z[:7]).all()


def test_seasonal_baseline_uses_the_same_phase() -> None:
    weekly = np.tile([10.0, 10, 10, 10, 10, 30, 30], 8)
    z = robust_z(weekly + np.random.default_rng(2).normal(0, 0.1, weekly.size), season=7, min_history=7)
    assert np.nanmax(np.abs(z)) < 6  # the weekend bump is expected, not anomalous
    z_flat = robust_z(weekly + np.random.default_rng(2).normal(0, 0.1, weekly.size), min_history=7)
    assert np.nanmax(np.abs(z_flat)) > 6


def test_accuracy_drop_against_its_baseline() -> None:
    acc = np.r_[np.full(10, 0.90), 0.89, 0.86, 0.85]
    cond = drop_condition(acc, 0.02, halflife=3)
    assert list(cond[1:]) == [0] * 10 + [1, 1]


def test_validation() -> None:
    with pytest.raises(ValueError, match="trigger_after"):
        episodes([1, 0], trigger_after=0)
    with pytest.raises(ValueError, match="clear_after"):
        episodes([1, 0], clear_after=0)
    with pytest.raises(ValueError, match="op"):
        threshold_condition([1.0], "!=", 1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="halflife"):
        ewma_baseline([1.0], 0)
    with pytest.raises(ValueError, match="window"):
        robust_z([1.0, 2.0], window=1)
    with pytest.raises(ValueError, match="season"):
        ewma_baseline([1.0], 1, season=0)
    # constant history: scale falls back to the standard deviation (0) → z unknown, no crash
    assert np.isnan(robust_z(np.ones(20))).all()


def test_accuracy_drop_needs_to_exceed_sampling_noise() -> None:
    acc = np.r_[np.full(10, 0.90), 0.86, 0.86]
    thin = np.sqrt(acc * (1 - acc) / 50)  # 50 labels per bucket: se ≈ 0.05, a 4-point dip is noise
    thick = np.sqrt(acc * (1 - acc) / 5000)
    assert list(drop_condition(acc, 0.02, halflife=3, se=thin)[10:]) == [0, 0]
    assert list(drop_condition(acc, 0.02, halflife=3, se=thick)[10:]) == [1, 1]
    with pytest.raises(ValueError, match="se must have"):
        drop_condition(acc, 0.02, se=[0.1])
    with pytest.raises(ValueError, match="drop"):
        drop_condition(acc, -0.1)


def test_hold_condition_keeps_an_alert_firing() -> None:
    cond = [0, 1, 0, 0, 0, 0]
    hold = [0, 1, 1, 1, 0, 0]
    assert [(t.index, t.state) for t in episodes(cond, clear_after=2)] == [(1, "firing"), (3, "resolved")]
    assert [(t.index, t.state) for t in episodes(cond, clear_after=2, hold=hold)] == [
        (1, "firing"),
        (5, "resolved"),
    ]
    with pytest.raises(ValueError, match="hold"):
        episodes(cond, hold=[1])


def test_k_of_m_persistence_and_hysteresis_do_not_flap() -> None:
    # one-bucket blips never fire; 2 of 3 does; a single good bucket inside an episode does not resolve
    blips = [0, 1, 0, 0, 1, 0, 0, 1, 0, 0]
    assert Persistence(2, 3, 3).episodes(blips) == []
    noisy = [0, 1, 0, 1, 1, 0, 1, 1, 0, 0, 0, 1, 0]
    trans = Persistence(2, 3, 3).episodes(noisy)
    assert [(t.index, t.state) for t in trans] == [(3, "firing"), (10, "resolved")]
    with pytest.raises(ValueError, match="within"):
        Persistence(3, 2, 1)
    with pytest.raises(ValueError, match="clear"):
        Persistence(1, 1, 0)


def test_gate_makes_thin_buckets_unknown() -> None:
    cond = gate([1.0, 1.0, 1.0, 1.0], [100, 3, 2, 100], 30)
    assert Persistence(2, 2, 1).episodes(cond) == [] or np.isnan(cond[1:3]).all()
    assert [t.state for t in Persistence(2, 3, 1).episodes(cond)] == ["firing"]  # 0 and 3 are both known
    with pytest.raises(ValueError, match="counts"):
        gate([1.0], [1, 2], 3)


def test_fdr_condition_is_statsmodels_bh_over_all_series() -> None:
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(3)
    a, b = rng.uniform(size=40) ** 3, rng.uniform(size=25)
    b[[3, 7]] = np.nan
    got = fdr_condition([a, b], 0.05)
    flat = np.r_[a, b]
    ok = np.isfinite(flat)
    ref = multipletests(flat[ok], alpha=0.05, method="fdr_bh")[0]
    np.testing.assert_array_equal(np.r_[got[0], got[1]][ok], ref.astype(float))
    assert np.isnan(got[1][[3, 7]]).all()
    with pytest.raises(ValueError, match="q"):
        fdr_condition([a], 1.5)


def test_dispersion_is_the_quasi_binomial_pearson_scale_of_statsmodels() -> None:
    import statsmodels.api as sm

    rng = np.random.default_rng(4)
    n = rng.integers(50, 400, size=30).astype(float)
    p = np.clip(0.8 + rng.normal(0, 0.04, 30), 0.01, 0.99)  # the rate itself varies: overdispersed
    x = rng.binomial(n.astype(int), p).astype(float)
    glm = sm.GLM(x / n, np.ones((30, 1)), family=sm.families.Binomial(), var_weights=n).fit(scale="X2")
    assert dispersion(x, n) == pytest.approx(glm.scale, rel=1e-9)
    assert dispersion(x, n) > 2


def test_adaptive_test_pvalues_are_calibrated_on_null_data() -> None:
    """iid and AR(1) nulls: per-bucket p-values are close to uniform in the tail that alerts."""
    from tests.analyze.ar_series import ar1

    for phi in (0.0, 0.5, 0.7):
        hits = tested = 0
        for seed in range(60):
            v = ar1(np.random.default_rng(seed), 120, phi)
            p = adaptive_test(v, min_history=14).pvalue
            tested += int(np.isfinite(p).sum())
            hits += int(np.sum(p[np.isfinite(p)] < 0.01))
        assert hits / tested < 0.02, (phi, hits / tested)


def test_accuracy_noise_uses_the_observed_dispersion() -> None:
    """Accuracy whose true rate wanders day to day (4x the binomial variance): a binomial-only
    test flags many days, the quasi-binomial one does not; a real 10-point drop is still found."""
    rng = np.random.default_rng(5)
    hits_binom = hits_quasi = 0
    for _ in range(20):
        n = np.full(60, 2000.0)
        true = 0.85 + rng.normal(0, 2 * np.sqrt(0.85 * 0.15 / 2000), 60)
        acc = rng.binomial(2000, true) / n
        res = adaptive_test(acc, n=n, side="less", min_history=14)
        ok = np.isfinite(res.pvalue)
        hits_quasi += int(np.sum(res.pvalue[ok] < 0.001))
        binom_z = (acc - res.baseline) / np.sqrt(res.baseline * (1 - res.baseline) / n)
        hits_binom += int(np.sum(binom_z[ok] < -3.09))
        assert np.nanmin(res.scale) >= 1.0
    assert hits_quasi <= 3 < hits_binom
    acc[45:] -= 0.10
    assert (adaptive_test(acc, n=n, side="less", min_history=14).pvalue[45:48] < 0.01).all()


def test_adaptive_test_validation() -> None:
    with pytest.raises(ValueError, match="side"):
        adaptive_test([1.0, 2.0], side="up")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n must have"):
        adaptive_test([1.0, 2.0], n=[1.0])
    with pytest.raises(ValueError, match="clip"):
        adaptive_test([1.0, 2.0], clip=0)
    with pytest.raises(ValueError, match="halflife"):
        adaptive_test([1.0, 2.0], halflife=0)
    with pytest.raises(ValueError, match="successes and trials"):
        dispersion([1.0], [2.0, 3.0])
    assert math.isnan(dispersion([1.0], [2.0]))


def test_robust_baseline_keeps_a_level_shift_standing_out() -> None:
    """A 6-sigma drop that persists: with the plain EWMA the baseline follows it and only the
    first bucket is extreme; the Huberised baseline keeps several buckets significant."""
    rng = np.random.default_rng(9)
    v = rng.normal(size=80)
    v[50:] -= 6
    robust = adaptive_test(v, side="less", min_history=14).pvalue[50:56]
    plain = adaptive_test(v, side="less", min_history=14, clip=None).pvalue[50:56]
    assert (robust < 1e-3).sum() >= 5 > (plain < 1e-3).sum()
