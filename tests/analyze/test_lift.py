"""Lift: Welch vs scipy, CUPED vs statsmodels OLS, SRM vs scipy chisquare, planted 5 % lift."""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from otel_impact.analyze.lift import cuped, lift, sample_ratio_mismatch, welch_t
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
    with pytest.raises(ValueError, match="expected_shares"):
        sample_ratio_mismatch([1, 2], [1.0])
    with pytest.raises(ValueError, match="observed"):
        sample_ratio_mismatch([1])
