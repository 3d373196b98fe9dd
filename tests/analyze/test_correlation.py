"""Correlation, effective n, lag scan and segment ranking against scipy/statsmodels and planted effects."""

from __future__ import annotations

import math

import numpy as np
import pytest
from ar_series import ar1
from scipy import stats
from statsmodels.tsa.stattools import acf as sm_acf

from otel_impact.analyze.correlation import (
    acf,
    correlate,
    effective_n,
    fisher_ci,
    lag_scan,
    rank_segments,
    sidak,
)
from otel_impact.analyze.results import DegenerateDataWarning


def test_acf_matches_statsmodels() -> None:
    x = ar1(np.random.default_rng(1), 80, 0.6)
    np.testing.assert_allclose(acf(x, 12), sm_acf(x, nlags=12, fft=False), rtol=1e-10, atol=1e-12)


def test_effective_n_matches_acf_sum_from_statsmodels() -> None:
    rng = np.random.default_rng(2)
    x, y = ar1(rng, 100, 0.7), ar1(rng, 100, 0.5)
    k = 10
    rx, ry = sm_acf(x, nlags=k, fft=False), sm_acf(y, nlags=k, fft=False)
    expected = 100 / (1 + 2 * np.sum(rx[1:] * ry[1:]))
    assert effective_n(x, y, "bartlett") == pytest.approx(expected, rel=1e-10)
    r1 = rx[1] * ry[1]
    assert effective_n(x, y, "bretherton") == pytest.approx(100 * (1 - r1) / (1 + r1), rel=1e-10)
    assert effective_n(x, y, "none") == 100
    # persistent series have far fewer independent pairs than buckets
    assert effective_n(x, y) < 70


def test_pearson_matches_scipy_without_autocorrelation_correction() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=40)
    y = 0.5 * x + rng.normal(size=40)
    ours = correlate(x, y, "pearson", neff_method="none", level=0.9)
    ref = stats.pearsonr(x, y)
    ref_ci = ref.confidence_interval(confidence_level=0.9)
    assert ours.estimate == pytest.approx(ref.statistic, rel=1e-12)
    assert ours.pvalue == pytest.approx(ref.pvalue, rel=1e-9)
    assert ours.ci.low == pytest.approx(ref_ci.low, rel=1e-9)
    assert ours.ci.high == pytest.approx(ref_ci.high, rel=1e-9)
    assert ours.n == 40 and ours.ci.level == 0.9


def test_spearman_matches_scipy_and_fieller_interval() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=30)
    y = np.exp(x) + rng.normal(size=30)
    ours = correlate(x, y, "spearman", neff_method="none")
    ref = stats.spearmanr(x, y)
    assert ours.estimate == pytest.approx(ref.statistic, rel=1e-12)
    assert ours.pvalue == pytest.approx(ref.pvalue, rel=1e-9)
    half = 1.959963984540054 * math.sqrt(1.06 / 27)
    assert ours.ci.low == pytest.approx(math.tanh(math.atanh(ref.statistic) - half), rel=1e-9)
    assert ours.ci.high == pytest.approx(math.tanh(math.atanh(ref.statistic) + half), rel=1e-9)


def test_autocorrelation_widens_interval_and_raises_pvalue() -> None:
    rng = np.random.default_rng(5)
    x = ar1(rng, 60, 0.8)
    y = 0.3 * x + ar1(rng, 60, 0.8)
    naive = correlate(x, y, neff_method="none")
    honest = correlate(x, y)
    assert honest.estimate == pytest.approx(naive.estimate)
    assert honest.n_eff < naive.n_eff
    assert honest.pvalue > naive.pvalue
    assert honest.ci.high - honest.ci.low > naive.ci.high - naive.ci.low


def test_autocorrelated_null_keeps_false_positive_rate() -> None:
    # independent AR(1) series: the naive test rejects far too often, n_eff keeps it near alpha
    rng = np.random.default_rng(6)
    naive = honest = 0
    trials = 300
    for _ in range(trials):
        x, y = ar1(rng, 60, 0.8), ar1(rng, 60, 0.8)
        naive += correlate(x, y, neff_method="none").pvalue < 0.05
        honest += correlate(x, y).pvalue < 0.05
    assert naive / trials > 0.15
    assert honest / trials < 0.10


def test_lag_scan_finds_planted_lag_of_two_buckets() -> None:
    found = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        model = ar1(rng, 90, 0.3)
        business = np.r_[rng.normal(size=2), model[:-2]] + 0.8 * rng.normal(size=90)
        scan = lag_scan(model, business, max_lag=7)
        found += scan.best_lag == 2
        assert scan.lags_scanned == 8
        assert scan.pvalue_adjusted >= scan.best.pvalue
    assert found >= 19


def test_lag_scan_pvalue_is_sidak_corrected() -> None:
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=50), rng.normal(size=50)
    scan = lag_scan(x, y, max_lag=5, neff_method="none")
    p_min = min(c.pvalue for c in scan.by_lag)
    assert scan.best.pvalue == p_min
    assert scan.pvalue_adjusted == pytest.approx(1 - (1 - p_min) ** 6)
    assert sidak(0.01, 1) == pytest.approx(0.01)


def test_segment_with_strong_relationship_ranks_first() -> None:
    rng = np.random.default_rng(8)
    n = 60
    x_strong, x_weak = rng.normal(size=n), rng.normal(size=n)
    strong = 0.7 * x_strong + math.sqrt(1 - 0.49) * rng.normal(size=n)
    weak = 0.1 * x_weak + math.sqrt(1 - 0.01) * rng.normal(size=n)
    with pytest.warns(DegenerateDataWarning):
        empty = lag_scan(x_weak[:2], weak[:2], 0)
    ranking = rank_segments(
        {"weak": correlate(x_weak, weak), "strong": correlate(x_strong, strong), "empty": empty}
    )
    assert [r.segment for r in ranking] == ["strong", "weak", "empty"]
    assert ranking[0].rank == 1 and ranking[0].strength > 0.4


def test_degenerate_inputs_give_nan_and_warning() -> None:
    with pytest.warns(DegenerateDataWarning):
        c = correlate([1.0, 1.0, 1.0, 1.0], [1.0, 2.0, 3.0, 4.0])
    assert math.isnan(c.estimate) and math.isnan(c.pvalue) and c.ci.is_nan and c.n == 4
    with pytest.warns(DegenerateDataWarning):
        c = correlate([1.0, 2.0], [3.0, 4.0])
    assert math.isnan(c.estimate) and c.n == 2
    with pytest.warns(DegenerateDataWarning):
        scan = lag_scan([1.0, 2.0], [1.0, 2.0], max_lag=3)
    assert scan.best_lag == -1 and math.isnan(scan.pvalue)
    # NaN buckets are dropped pairwise
    c = correlate([1.0, np.nan, 2.0, 3.0, 4.0], [1.0, 5.0, 2.5, 2.9, 4.2], neff_method="none")
    assert c.n == 4
    assert fisher_ci(0.5, 3.0).is_nan


def test_argument_validation() -> None:
    with pytest.raises(ValueError, match="method"):
        correlate([1, 2, 3], [1, 2, 3], "kendall")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="same length"):
        correlate([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="level"):
        correlate([1, 2, 3], [1, 2, 3], level=1.5)
    with pytest.raises(ValueError, match="max_lag"):
        lag_scan([1, 2, 3], [1, 2, 3], -1)
    with pytest.raises(ValueError, match="neff_method"):
        correlate([1, 2, 3], [1, 2, 3], neff_method="x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="one-dimensional"):
        correlate([[1, 2]], [[1, 2]])
