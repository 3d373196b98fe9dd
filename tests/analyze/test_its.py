"""Interrupted time series: pinned to statsmodels GLS, planted effects, calibration, validation."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import statsmodels.api as sm

from otel_impact.analyze.its import ar1_regression, interrupted_time_series
from otel_impact.analyze.results import DegenerateDataWarning

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "stages"))
from rollout_world import ar1


def _series(seed: int, effect: float = 0.0, phi: float = 0.5, n: int = 84, at: int = 56) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 100 + 0.1 * t + 5 * np.sin(2 * np.pi * t / 7) + ar1(rng, n, phi, 1.5)
    y[at:] *= 1 + effect
    return y


def test_ar1_regression_matches_statsmodels_gls_at_the_same_rho() -> None:
    rng = np.random.default_rng(3)
    n = 80
    x = np.column_stack([np.ones(n), np.arange(n, dtype=float)])
    y = x @ [2.0, 0.3] + ar1(rng, n, 0.6, 1.0)
    fit = ar1_regression(y, x)
    # the exact AR(1) correlation matrix at the fitted rho; GLS gives the same coefficients
    sigma = fit.rho ** np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
    gls = sm.GLS(y, x, sigma=sigma).fit()
    np.testing.assert_allclose(fit.beta, gls.params, rtol=1e-8)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov)), gls.bse, rtol=1e-6)
    # and rho maximises the exact Gaussian AR(1) likelihood (statsmodels' SARIMAX, same regressors)
    mle = sm.tsa.SARIMAX(y, exog=x, order=(1, 0, 0)).fit(disp=False)
    assert abs(fit.rho - mle.params[-2]) < 0.05


def test_planted_effect_is_recovered_with_level_and_slope() -> None:
    y = _series(1, effect=0.06)
    r = interrupted_time_series(y, 56, season=7)
    assert r.ci.contains(0.06) and not r.ci.contains(0.0)
    assert r.pvalue < 0.01
    assert r.n == 84 and r.n_pre == 56 and r.n_post == 28
    assert r.cumulative == pytest.approx(28 * r.average_effect)
    assert r.average_effect_ci.contains(r.average_effect)
    assert r.mde_relative < 0.06
    assert r.placebo_pvalue > 0.05  # no fake effect in the pre-period


def test_slope_change_is_estimated() -> None:
    t = np.arange(84)
    rng = np.random.default_rng(2)
    y = 50 + 0.2 * t + np.where(t >= 56, 0.5 * (t - 56), 0) + rng.normal(0, 0.5, 84)
    r = interrupted_time_series(y, 56, season=None)
    assert r.slope_change_ci.contains(0.5)
    assert r.level_change_ci.contains(0.0)


def test_calibration_null_effect_ci_covers_zero_in_90pct_of_seeds() -> None:
    covered = [interrupted_time_series(_series(s), 56, placebo=False).ci.contains(0.0) for s in range(60)]
    assert np.mean(covered) >= 0.9


def test_too_little_data_gives_nan_and_a_warning() -> None:
    with pytest.warns(DegenerateDataWarning):
        r = interrupted_time_series(np.arange(12.0), 4)
    assert np.isnan(r.estimate) and r.ci.is_nan


def test_nan_buckets_are_skipped() -> None:
    y = _series(4, effect=0.05)
    y[[3, 30, 70]] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegenerateDataWarning)
        r = interrupted_time_series(y, 56)
    assert r.n == 81 and r.ci.contains(0.05)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"n_pre": 0}, "n_pre"), ({"n_pre": 84}, "n_pre"), ({"n_pre": 40, "season": 0}, "season"),
     ({"n_pre": 40, "level": 1.5}, "level")],
)  # fmt: skip
def test_validation(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        interrupted_time_series(_series(0), **kwargs)


def test_values_must_be_one_dimensional() -> None:
    with pytest.raises(ValueError, match="values"):
        interrupted_time_series(np.zeros((10, 2)), 5)
