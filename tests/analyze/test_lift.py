"""Lift: Welch vs scipy, CUPED vs statsmodels OLS, SRM vs scipy chisquare, planted 5 % lift, the
delta-method interval vs its closed form and vs the bootstrap it replaces for large arms."""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from otel_impact.analyze.lift import (
    BOOTSTRAP_MAX_N,
    cuped,
    delta_log_ci,
    lift,
    sample_ratio_mismatch,
    welch_t,
)
from otel_impact.analyze.results import DegenerateDataWarning


def test_welch_matches_scipy() -> None:
    rng = np.random.default_rng(0)
    t, c = rng.normal(1.1, 2.0, 300), rng.normal(1.0, 1.0, 500)
    stat, df, p = welch_t(t, c)
    ref = stats.ttest_ind(t, c, equal_var=False)
    assert stat == pytest.approx(ref.statistic, rel=1e-10)
    assert p == pytest.approx(ref.pvalue, rel=1e-9)
    assert df == pytest.approx(ref.df, rel=1e-10)
    res = lift(t, c, rng=np.random.default_rng(1), n_boot=200)
    assert res.pvalue == pytest.approx(ref.pvalue, rel=1e-9)
    assert res.estimate == pytest.approx(t.mean() / c.mean() - 1)
    assert res.absolute == pytest.approx(t.mean() - c.mean())
    assert res.n == 800 and res.method == "welch" and (res.n_treatment, res.n_control) == (300, 500)


def test_cuped_theta_and_variance_reduction_match_ols() -> None:
    rng = np.random.default_rng(2)
    x = rng.gamma(3.0, 2.0, 4000)
    y = 0.8 * x + rng.normal(0, 2.0, 4000)
    y[:2000] *= 1.05
    adj = cuped(y[:2000], y[2000:], x[:2000], x[2000:])
    ols = sm.OLS(y, sm.add_constant(x)).fit()
    assert adj.theta == pytest.approx(ols.params[1], rel=1e-10)
    assert adj.variance_reduction == pytest.approx(ols.rsquared, rel=1e-10)
    plain = lift(y[:2000], y[2000:], rng=np.random.default_rng(3), n_boot=300)
    adjusted = lift(
        y[:2000],
        y[2000:],
        rng=np.random.default_rng(3),
        n_boot=300,
        pre_treatment=x[:2000],
        pre_control=x[2000:],
    )
    assert adjusted.cuped and not plain.cuped
    assert adjusted.ci.high - adjusted.ci.low < 0.8 * (plain.ci.high - plain.ci.low)
    assert adjusted.pvalue < plain.pvalue


def test_planted_five_percent_lift_is_detected_and_covered() -> None:
    covered = right_sign = significant = 0
    for seed in range(50):
        rng = np.random.default_rng(seed)
        control = rng.gamma(4.0, 2.5, 5000)  # per-user value, mean 10, CV 0.5
        treatment = 1.05 * rng.gamma(4.0, 2.5, 5000)
        res = lift(treatment, control, rng=rng, n_boot=400)
        assert res.ci_method == "bootstrap-percentile"  # 5,000 users per arm: resampled
        covered += res.ci.contains(0.05)
        right_sign += res.estimate > 0
        significant += res.pvalue < 0.05
    assert right_sign == 50
    assert covered >= 45, covered
    assert significant >= 45, significant


def test_srm_matches_scipy_chisquare() -> None:
    res = sample_ratio_mismatch([5200, 4800])
    ref = stats.chisquare([5200, 4800], [5000, 5000])
    assert res.statistic == pytest.approx(ref.statistic) and res.pvalue == pytest.approx(ref.pvalue)
    assert res.mismatch and res.n == 10000
    ok = sample_ratio_mismatch([9010, 990], [0.9, 0.1])
    assert not ok.mismatch and ok.pvalue == pytest.approx(stats.chisquare([9010, 990], [9000, 1000]).pvalue)


def test_degenerate_inputs() -> None:
    with pytest.warns(DegenerateDataWarning, match="control mean is 0"):
        res = lift(np.r_[np.zeros(50), np.ones(5)], np.zeros(60), rng=np.random.default_rng(0), n_boot=100)
    assert math.isnan(res.estimate) and res.ci.is_nan and res.mean_control == 0.0
    with pytest.warns(DegenerateDataWarning):
        res = lift([1.0], [1.0, 2.0], rng=np.random.default_rng(0), n_boot=100)
    assert math.isnan(res.estimate) and math.isnan(res.pvalue) and res.n == 3
    with pytest.warns(DegenerateDataWarning):
        res = lift(np.ones(10), np.ones(10), rng=np.random.default_rng(0), n_boot=100)
    assert math.isnan(res.pvalue) and res.estimate == 0.0
    with pytest.warns(DegenerateDataWarning):
        adj = cuped(np.ones(5), np.ones(5), np.ones(5), np.ones(5))
    assert math.isnan(adj.theta)
    with pytest.warns(DegenerateDataWarning):
        srm = sample_ratio_mismatch([0, 0])
    assert math.isnan(srm.pvalue) and not srm.mismatch


def test_validation() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="n_boot"):
        lift([1.0, 2.0], [1.0, 2.0], rng=rng, n_boot=10)
    with pytest.raises(ValueError, match="pre_treatment"):
        lift([1.0, 2.0], [1.0, 2.0], rng=rng, pre_treatment=[1.0, 2.0])
    with pytest.raises(ValueError, match="pre_control"):
        cuped([1.0, 2.0], [1.0, 2.0], [1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="level"):
        lift([1.0, 2.0], [1.0, 2.0], rng=rng, level=0)
    with pytest.raises(ValueError, match="bootstrap_max_n"):
        lift([1.0, 2.0], [1.0, 2.0], rng=rng, bootstrap_max_n=1)
    with pytest.raises(ValueError, match="level"):
        delta_log_ci([1.0, 2.0], [1.0, 2.0], level=1.5)
    with pytest.raises(ValueError, match="expected_shares"):
        sample_ratio_mismatch([1, 2], [1.0])
    with pytest.raises(ValueError, match="observed"):
        sample_ratio_mismatch([1])


def _purchases(rng: np.random.Generator, n: int, effect: float) -> np.ndarray:
    """Per-user purchase value: a Poisson number of gamma-sized purchases (most users buy nothing)."""
    counts = rng.poisson(0.6, n)
    values = np.zeros(n)
    np.add.at(values, np.repeat(np.arange(n), counts), rng.gamma(2.0, 20.0, int(counts.sum())))
    return effect * values


def test_delta_log_ci_matches_its_closed_form() -> None:
    rng = np.random.default_rng(11)
    t, c = _purchases(rng, 3000, 1.1), _purchases(rng, 4000, 1.0)
    se = math.sqrt(t.var(ddof=1) / (t.size * t.mean() ** 2) + c.var(ddof=1) / (c.size * c.mean() ** 2))
    low, high = stats.norm.interval(0.9, loc=math.log(t.mean() / c.mean()), scale=se)
    ci = delta_log_ci(t, c, level=0.9)
    assert (ci.low, ci.high, ci.level) == (pytest.approx(math.expm1(low), rel=1e-12),
                                           pytest.approx(math.expm1(high), rel=1e-12), 0.9)  # fmt: skip
    res = lift(t, c, rng=np.random.default_rng(0), level=0.9, bootstrap_max_n=2000)
    assert res.ci_method == "delta-log" and (res.ci.low, res.ci.high) == (ci.low, ci.high)
    with pytest.warns(DegenerateDataWarning):
        assert delta_log_ci([1.0], [1.0, 2.0]).is_nan
    with pytest.warns(DegenerateDataWarning):
        assert delta_log_ci([-1.0, -2.0], [1.0, 2.0]).is_nan


@pytest.mark.parametrize("n", [BOOTSTRAP_MAX_N, 60_000])
def test_delta_log_ci_agrees_with_the_bootstrap_above_the_threshold(n: int) -> None:
    """Where the stage switches (and above), the two intervals' endpoints differ by less than 5 % of
    the interval's width: about what two 2,000-resample bootstraps with different seeds differ by."""
    rng = np.random.default_rng(n)
    t, c = _purchases(rng, n, 1.03), _purchases(rng, n, 1.0)
    boot = lift(t, c, rng=np.random.default_rng(1), bootstrap_max_n=None)
    delta = lift(t, c, rng=np.random.default_rng(1), bootstrap_max_n=n - 1)
    assert (boot.ci_method, delta.ci_method) == ("bootstrap-percentile", "delta-log")
    assert (delta.estimate, delta.pvalue) == (boot.estimate, boot.pvalue)
    width = boot.ci.high - boot.ci.low
    assert abs(delta.ci.low - boot.ci.low) < 0.05 * width
    assert abs(delta.ci.high - boot.ci.high) < 0.05 * width


def test_delta_log_ci_covers_a_planted_lift() -> None:
    covered = 0
    for seed in range(200):
        rng = np.random.default_rng(seed)
        res = lift(_purchases(rng, 30_000, 1.05), _purchases(rng, 30_000, 1.0), rng=rng)
        assert res.ci_method == "delta-log"
        covered += res.ci.contains(0.05)
    assert 180 <= covered <= 198, covered  # 95 % nominal: 190 expected, binomial sd 3.1


def test_small_arms_and_non_positive_means_keep_the_bootstrap() -> None:
    rng = np.random.default_rng(5)
    # one arm above the threshold is not enough: the small arm's mean is what the normal
    # approximation would get wrong first
    small = lift(_purchases(rng, 2 * BOOTSTRAP_MAX_N, 1.0), _purchases(rng, 500, 1.0), rng=rng, n_boot=200)
    assert small.ci_method == "bootstrap-percentile"
    signed = lift(rng.normal(-1.0, 1.0, 3000), rng.normal(1.0, 1.0, 3000), rng=rng, bootstrap_max_n=100)
    assert signed.ci_method == "bootstrap-percentile" and signed.ci.high < -1.5
