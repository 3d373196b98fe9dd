"""Alert rules: hysteresis/de-duplication, thresholds, EWMA (vs pandas) and robust z (vs closed form)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from otel_impact.analyze.alerts import (
    DEFAULT_THRESHOLDS,
    MAD_SCALE,
    alerts_from_condition,
    drop_condition,
    episodes,
    ewma_baseline,
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
        "latency_p95", cond, values=latency, message="p95 {value:.0f} ms", severity="critical"
    )
    assert [(a.index, a.state, a.severity) for a in alerts] == [
        (2, "firing", "critical"),
        (5, "resolved", "info"),
    ]
    assert alerts[0].message == "p95 230 ms"


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
