"""Synthetic control and DiD: weights pinned to an independent solver, placebo p-values by their
definition, planted effects, a confounding shock, calibration over seeds, refusals, validation."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import optimize, stats

from otel_impact.analyze.results import DegenerateDataWarning
from otel_impact.analyze.synth import difference_in_differences, simplex_weights, synthetic_control

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "stages"))
from rollout_world import panel


def test_simplex_weights_match_slsqp() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 6))
    y = x @ np.array([0.5, 0.3, 0.2, 0, 0, 0]) + rng.normal(0, 0.3, 30)
    w = simplex_weights(y, x)
    ref = optimize.minimize(
        lambda v: np.sum((y - x @ v) ** 2), np.full(6, 1 / 6), method="SLSQP", bounds=[(0, 1)] * 6,
        constraints=[{"type": "eq", "fun": lambda v: v.sum() - 1}], options={"ftol": 1e-14, "maxiter": 500},
    )  # fmt: skip
    np.testing.assert_allclose(w, ref.x, atol=1e-4)
    assert w.min() >= 0 and w.sum() == pytest.approx(1.0)


def test_planted_effect_recovered_and_placebo_pvalue_by_definition() -> None:
    y = panel(3, effect=0.08)
    sc = synthetic_control(y[:, 0], y[:, 1:], 56, donor_names=list("bcdef"))
    assert sc.ci.contains(0.08) and not sc.ci.contains(0.0)
    assert sc.fit_ok and sc.verdict.startswith("effect")
    # the permutation p-value: rank of the treated ratio among donors playing treated
    ratios = []
    for j in range(1, 6):
        others = np.delete(y[:, 1:], j - 1, axis=1)
        ratios.append(synthetic_control(y[:, j], others, 56, placebos=False).rmspe_ratio)
    assert sc.placebo_ratios == pytest.approx(ratios)
    assert sc.pvalue == pytest.approx((1 + sum(r >= sc.rmspe_ratio for r in ratios)) / 6)
    assert sc.pvalue == pytest.approx(1 / 6)
    assert {name for name, _ in sc.loo} == {d for d, w in zip("bcdef", sc.weights, strict=True) if w > 1e-3}
    assert all(0.04 < est < 0.12 for _, est in sc.loo)


def test_confounding_shock_is_not_credited_but_naive_pre_post_is() -> None:
    y = panel(5, shock=0.15)
    sc = synthetic_control(y[:, 0], y[:, 1:], 56)
    assert sc.ci.contains(0.0) and sc.verdict == "no detectable effect"
    naive = stats.ttest_ind(y[56:, 0], y[:56, 0], equal_var=False)
    assert y[56:, 0].mean() / y[:56, 0].mean() - 1 > 0.1 and naive.pvalue < 0.001


def test_calibration_null_effect_ci_covers_zero_in_90pct_of_seeds() -> None:
    covered = [synthetic_control(p[:, 0], p[:, 1:], 56, placebos=False).ci.contains(0.0)
               for p in (panel(s) for s in range(60))]  # fmt: skip
    assert np.mean(covered) >= 0.9


def test_poor_pre_fit_is_refused() -> None:
    y = panel(6)
    treated = y[:, 0] * 3.0  # far above every donor: no convex combination reaches it
    sc = synthetic_control(treated, y[:, 1:], 56)
    assert not sc.fit_ok and sc.verdict.startswith("refused")
    assert sc.pre_rmspe_relative > 0.1


def test_did_recovers_effect_and_extrapolates_a_non_parallel_trend() -> None:
    y = panel(7, effect=0.08)
    did = difference_in_differences(y[:, 0], y[:, 1:], 56)
    assert did.parallel_trends_ok and did.ci.contains(0.08) and did.verdict == "effect"
    # a drift of the treated segment alone: the trends differ (reported), and the shift is still
    # measured against the difference's own extrapolated trend instead of crediting the drift
    drift = y[:, 0] + 4.0 * np.arange(84)
    bad = difference_in_differences(drift, y[:, 1:], 56)
    assert not bad.parallel_trends_ok and bad.pretrend_slope == pytest.approx(4.0, abs=1.0)
    assert bad.verdict.startswith("effect (pre-period trends differ")
    assert bad.average_effect_ci.contains(did.average_effect)


def test_did_estimate_is_the_ols_shift_of_the_difference_with_its_trend() -> None:
    y = panel(11, effect=0.05)
    did = difference_in_differences(y[:, 0], y[:, 1:], 56)
    diff = y[:, 0] - y[:, 1:].mean(axis=1)
    t = np.arange(84.0)
    ref = sm.OLS(diff, np.column_stack([np.ones(84), (t >= 56).astype(float), t])).fit()
    assert did.average_effect == pytest.approx(ref.params[1], rel=1e-9)
    assert did.estimate == pytest.approx(ref.params[1] / (y[56:, 0].mean() - ref.params[1]), rel=1e-9)
    # the pre-trend: the slope of the pre-period difference alone
    pre = sm.OLS(diff[:56], np.column_stack([np.ones(56), t[:56]])).fit()
    assert did.pretrend_slope == pytest.approx(pre.params[1], rel=1e-9)


def test_did_calibration_null_effect_ci_covers_zero_in_90pct_of_seeds() -> None:
    # segments load differently on a common trend: the textbook DiD covered 0 in 76 % of seeds
    covered = [difference_in_differences(p[:, 0], p[:, 1:], 56).ci.contains(0.0)
               for p in (panel(s) for s in range(60))]  # fmt: skip
    assert np.mean(covered) >= 0.9


def test_too_little_data() -> None:
    with pytest.warns(DegenerateDataWarning):
        sc = synthetic_control(np.ones(6), np.ones((6, 2)), 3)
    assert np.isnan(sc.estimate) and sc.verdict.startswith("refused")
    with pytest.warns(DegenerateDataWarning):
        did = difference_in_differences(np.ones(4), np.ones((4, 2)), 2)
    assert np.isnan(did.estimate)


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [((np.ones(10), np.ones((9, 2)), 5), {}, "donors"), ((np.ones(10), np.ones((10, 2)), 10), {}, "n_pre"),
     ((np.ones(10), np.ones((10, 2)), 5), {"donor_names": ["a"]}, "donor_names"),
     ((np.ones(10), np.ones((10, 2)), 5), {"max_pre_rmspe": 0}, "max_pre_rmspe")],
)  # fmt: skip
def test_validation(args: tuple, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        synthetic_control(*args, **kwargs)
    with pytest.raises(ValueError, match="finite"):
        simplex_weights([1.0, np.nan], [[1.0], [2.0]])
