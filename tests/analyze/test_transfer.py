"""Transfer function: slope/HAC interval against statsmodels, planted saturation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm
from ar_series import ar1

from otel_impact.analyze.results import DegenerateDataWarning
from otel_impact.analyze.transfer import default_maxlags, fit_transfer, saturation


@pytest.mark.parametrize("maxlags", [None, 0, 5])
def test_slope_and_hac_interval_match_statsmodels(maxlags: int | None) -> None:
    rng = np.random.default_rng(0)
    x = 5 + ar1(rng, 90, 0.6)
    y = 20 + 1.5 * x + ar1(rng, 90, 0.7)
    ours = fit_transfer(x, y, maxlags=maxlags, level=0.9)
    lags = default_maxlags(90) if maxlags is None else maxlags
    ref = sm.OLS(y, sm.add_constant(x)).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
    assert ours.estimate == pytest.approx(ref.params[1], rel=1e-10)
    assert ours.intercept == pytest.approx(ref.params[0], rel=1e-10)
    assert ours.se == pytest.approx(ref.bse[1], rel=1e-8)
    assert ours.pvalue == pytest.approx(ref.pvalues[1], rel=1e-6, abs=1e-300)
    lo, hi = ref.conf_int(alpha=0.1)[1]
    assert (ours.ci.low, ours.ci.high) == pytest.approx((lo, hi), rel=1e-8)
    assert ours.elasticity == pytest.approx(ref.params[1] * x.mean() / y.mean(), rel=1e-10)
    assert ours.maxlags == lags and ours.n == 90 and ours.method == "ols-hac"


def test_planted_saturation_is_flagged_and_stable_slope_is_not() -> None:
    flagged = false_flags = 0
    for seed in range(30):
        rng = np.random.default_rng(seed)
        x = rng.normal(size=90)
        slope = np.where(np.arange(90) < 76, 2.0, 0.3)  # relationship saturates in the last 14 buckets
        flagged += saturation(x, slope * x + 0.5 * rng.normal(size=90), window=14).saturated
        false_flags += saturation(x, 2.0 * x + 0.5 * rng.normal(size=90), window=14).saturated
    assert flagged >= 28
    assert false_flags <= 4


def test_rolling_slope_tracks_the_change() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=60)
    y = np.where(np.arange(60) < 30, 2.0, 0.5) * x + 0.1 * rng.normal(size=60)
    sat = saturation(x, y, window=10)
    assert np.isnan(sat.rolling_slope[:9]).all()
    assert sat.rolling_slope[25] == pytest.approx(2.0, abs=0.2)
    assert sat.rolling_slope[59] == pytest.approx(0.5, abs=0.2)


def test_degenerate_and_validation() -> None:
    with pytest.warns(DegenerateDataWarning):
        t = fit_transfer(np.ones(10), np.arange(10.0))
    assert math.isnan(t.estimate) and t.ci.is_nan
    with pytest.warns(DegenerateDataWarning):
        t = fit_transfer([1.0, 2.0], [1.0, 2.0])
    assert math.isnan(t.estimate) and t.n == 2
    with pytest.warns(DegenerateDataWarning):
        s = saturation(np.arange(10.0), np.arange(10.0), window=6)
    assert not s.saturated and math.isnan(s.pvalue)
    with pytest.raises(ValueError, match="maxlags"):
        fit_transfer([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], maxlags=-1)
    with pytest.raises(ValueError, match="window"):
        saturation([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], window=2)
    with pytest.raises(ValueError, match="same length"):
        fit_transfer([1.0, 2.0, 3.0], [1.0, 2.0])
