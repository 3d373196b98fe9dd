"""Interrupted time series: the effect of a rollout on one metric without a control group.

Segmented regression (Wagner et al. 2002, "Segmented regression analysis of interrupted time
series studies in medication use research") on the metric's buckets ``y_0 … y_{n−1}`` with the
rollout at bucket ``n_pre``::

    y_t = a + b·t + Σ_s γ_s·season_s(t) + c·post_t + d·(t − n_pre)·post_t + e_t

``c`` is the **level change** and ``d`` the **slope change** per bucket. The counterfactual is the
same fit with ``c = d = 0``; the **average effect** per post bucket is ``c + d·mean(k)`` over the
post buckets ``k = 0 … m−1``, the **cumulative effect** ``m`` times that, and the **relative
effect** (``estimate``) the average effect over the mean counterfactual. Seasonality (``season``
buckets per cycle, 7 for daily buckets) enters as dummies. Business series are autocorrelated,
so the errors are modelled as AR(1) and the regression is fit by exact maximum likelihood
(Prais–Winsten whitening with the AR coefficient profiled out, then statsmodels OLS on the
whitened data). Intervals use the t distribution with the residual degrees of freedom; the
relative effect's interval comes from the delta method on the ratio.

Why not OLS with Newey–West HAC errors: measured on 200 seeds of 56 + 28 daily buckets with
AR(1) noise (φ = 0.5), the 95 % HAC interval of a null effect covered 0 only 82 % of the time
(Newey–West is biased down in samples this short); the AR(1) likelihood fit covered 92 %, the
same as statsmodels' SARIMAX regression with AR(1) errors (93 %) at a fiftieth of its cost.

Honesty checks on the same data:

* **placebo in time** — the same model fit on the pre-period alone with a fake rollout at its
  midpoint; a fake effect whose interval excludes 0 means the model does not describe the
  pre-period well enough to credit the real one;
* **minimum detectable effect** — ``(t_{1−α/2} + t_{0.8}) · se`` of the average effect (80 % power),
  absolute and relative;
* ``assumptions`` lists what the estimate rests on (no other change at the rollout, the pre-period
  trend and seasonality would have continued). ITS has **no control group**: anything else that
  changed at the rollout is credited to it — prefer the synthetic control when segments were
  treated at different times.

Too few buckets (fewer than ``min_pre`` before or 1 after) give NaN fields and a
:class:`~otel_impact.analyze.results.DegenerateDataWarning`.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> t = np.arange(70)
>>> y = 100 + 0.2 * t + 3 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 1, 70)
>>> y[49:] *= 1.05
>>> r = interrupted_time_series(y, 49, season=7)
>>> r.ci.low < 0.05 < r.ci.high
True
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, stats

from otel_impact.analyze.results import (
    ConfidenceInterval,
    FloatArray,
    as_float_array,
    check_level,
    nan_ci,
    warn_degenerate,
)

ITS_ASSUMPTIONS = (
    "nothing else that moves the metric changed at the rollout (no control group protects this estimate)",
    "the pre-period trend and seasonality would have continued without the rollout",
    "the noise around trend and season is AR(1)-like (short-range autocorrelation)",
)
POWER = 0.8


@dataclass(frozen=True)
class ItsResult:
    """Effect of a rollout by segmented regression (``method`` = ``"its_segmented_ar1"``).

    ``estimate`` / ``ci`` — relative effect (average effect over the mean counterfactual);
    ``pvalue`` — two-sided test of a zero average effect; ``average_effect`` (per post bucket),
    ``cumulative`` (over the post-period), ``level_change`` and ``slope_change`` with intervals,
    in the metric's unit. ``placebo_*`` — the fake rollout at the pre-period midpoint;
    ``mde`` / ``mde_relative`` — the smallest average effect detectable at 80 % power.
    """

    estimate: float
    ci: ConfidenceInterval
    pvalue: float
    n: int
    n_pre: int
    n_post: int
    average_effect: float
    average_effect_ci: ConfidenceInterval
    cumulative: float
    cumulative_ci: ConfidenceInterval
    level_change: float
    level_change_ci: ConfidenceInterval
    slope_change: float
    slope_change_ci: ConfidenceInterval
    counterfactual_mean: float
    pre_rmspe: float
    mde: float
    mde_relative: float
    placebo_estimate: float
    placebo_pvalue: float
    counterfactual: tuple[float, ...] = ()
    assumptions: tuple[str, ...] = ITS_ASSUMPTIONS
    method: str = "its_segmented_ar1"


def _design(n: int, n_pre: int, season: int | None, *, post_terms: bool) -> FloatArray:
    t = np.arange(n, dtype=np.float64)
    cols = [np.ones(n), t - n_pre]
    if season and season > 1:
        phase = np.arange(n) % season
        cols += [(phase == s).astype(np.float64) for s in range(1, season)]
    if post_terms:
        post = (t >= n_pre).astype(np.float64)
        cols += [post, post * (t - n_pre)]
    return np.column_stack(cols)


@dataclass(frozen=True)
class Ar1Fit:
    """Coefficients, their covariance, residual degrees of freedom, residuals and the AR(1) rho."""

    beta: FloatArray
    cov: FloatArray
    df: int
    resid: FloatArray
    rho: float


def _prais_winsten(v: FloatArray, rho: float) -> FloatArray:
    """The AR(1) whitening transform (Prais & Winsten 1954), keeping the first observation."""
    out = np.empty_like(v)
    out[0] = v[0] * math.sqrt(1.0 - rho * rho)
    out[1:] = v[1:] - rho * v[:-1]
    return out


def ar1_regression(y: FloatArray, x: FloatArray) -> Ar1Fit:
    """Regression with AR(1) errors by exact maximum likelihood: ``rho`` maximises the
    concentrated log-likelihood ``−n/2·log(SSR(rho)/n) + ½·log(1 − rho²)`` (Beach & MacKinnon
    1978); the coefficients and their covariance are statsmodels OLS on the whitened data."""
    # statsmodels' OLS (imported here and not through statsmodels.api, which takes seconds)
    from statsmodels.regression.linear_model import OLS

    def nll(rho: float) -> float:
        ys, xs = _prais_winsten(y, rho), _prais_winsten(x, rho)
        beta = np.linalg.lstsq(xs, ys, rcond=None)[0]
        ssr = float(np.sum((ys - xs @ beta) ** 2))
        return 0.5 * y.size * math.log(max(ssr, 1e-300) / y.size) - 0.5 * math.log(1.0 - rho * rho)

    rho = float(optimize.minimize_scalar(nll, bounds=(-0.95, 0.95), method="bounded").x)
    res = OLS(_prais_winsten(y, rho), _prais_winsten(x, rho)).fit()
    beta = np.asarray(res.params)
    # one degree of freedom more is spent on rho
    return Ar1Fit(beta, np.asarray(res.cov_params()), int(res.df_resid) - 1, y - x @ beta, rho)


def ols_ar1(y: FloatArray, x: FloatArray) -> Ar1Fit:
    """OLS coefficients with their covariance under AR(1) errors: the sandwich
    ``(X'X)⁻¹ X'ΣX (X'X)⁻¹`` with ``Σ = σ²·ρ^|i−j|`` from the maximum-likelihood AR(1) fit.

    Unlike the GLS coefficients (which with a persistent ``ρ`` weigh the buckets next to a break
    most), an OLS post-indicator coefficient is the plain difference of post and pre means."""
    gls = ar1_regression(y, x)
    beta = np.asarray(np.linalg.lstsq(x, y, rcond=None)[0], dtype=np.float64)
    resid = y - x @ beta
    rho = gls.rho
    whitened = _prais_winsten(resid, rho)
    sigma2 = float(np.sum(whitened**2)) / max(gls.df, 1) / (1.0 - rho * rho)
    idx = np.arange(y.size)
    corr = rho ** np.abs(np.subtract.outer(idx, idx))
    bread = np.linalg.pinv(x.T @ x)
    cov = bread @ (x.T @ (sigma2 * corr) @ x) @ bread
    return Ar1Fit(beta, cov, gls.df, resid, rho)


def _t_ci(est: float, se: float, df: int, level: float) -> ConfidenceInterval:
    if not (math.isfinite(se) and df > 0):
        return nan_ci(level)
    q = float(stats.t.ppf(0.5 + level / 2, df))
    return ConfidenceInterval(est - q * se, est + q * se, level)


def _nan_result(n: int, n_pre: int, n_post: int, level: float) -> ItsResult:
    ci = nan_ci(level)
    nan = math.nan
    return ItsResult(
        nan, ci, nan, n, n_pre, n_post, nan, ci, nan, ci, nan, ci, nan, ci, nan, nan, nan, nan, nan, nan
    )


def _average_effect(
    fit: Ar1Fit, n: int, n_pre: int, season: int | None
) -> tuple[float, float, FloatArray, FloatArray]:
    """Average post effect, its se, and the linear combinations for the effect and counterfactual."""
    m = n - n_pre
    p = fit.beta.size
    eff = np.zeros(p)
    eff[p - 2] = 1.0
    eff[p - 1] = (m - 1) / 2.0  # mean of k = 0 … m−1
    x_cf = _design(n, n_pre, season, post_terms=False)[n_pre:]
    cf = np.concatenate([x_cf.mean(axis=0), [0.0, 0.0]])
    est = float(eff @ fit.beta)
    se = math.sqrt(max(float(eff @ fit.cov @ eff), 0.0))
    return est, se, eff, cf


def interrupted_time_series(
    values: ArrayLike,
    n_pre: int,
    *,
    season: int | None = 7,
    level: float = 0.95,
    min_pre: int = 8,
    placebo: bool = True,
) -> ItsResult:
    """Effect of a rollout at bucket ``n_pre`` on ``values`` (see the module doc).

    ``season``: buckets per seasonal cycle (``None``/1 = no seasonality). NaN buckets are dropped
    from the fit (their position still counts for trend and season).
    """
    y_all = as_float_array(values, "values")
    level = check_level(level)
    if not isinstance(n_pre, int | np.integer) or not 0 < n_pre < y_all.size:
        raise ValueError(f"n_pre must be an int in (0, {y_all.size}), got {n_pre!r}")
    if season is not None and season < 1:
        raise ValueError(f"season must be >= 1 or None, got {season!r}")
    n = y_all.size
    n_pre = int(n_pre)
    ok = np.isfinite(y_all)
    pre_ok, post_ok = int(ok[:n_pre].sum()), int(ok[n_pre:].sum())
    seas = season if season and season > 1 else None
    p_base = 2 + (seas - 1 if seas else 0)
    if pre_ok < max(min_pre, p_base + 2) or post_ok < 1:
        warn_degenerate(
            f"interrupted time series needs >= {max(min_pre, p_base + 2)} pre and >= 1 post buckets"
        )
        return _nan_result(int(ok.sum()), pre_ok, post_ok, level)
    x = _design(n, n_pre, seas, post_terms=True)
    if post_ok < 3:  # a slope change is not identifiable from fewer than 3 post buckets
        x[:, -1] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fit = ar1_regression(y_all[ok], x[ok])
    if post_ok < 3:
        fit = Ar1Fit(fit.beta, _pin_slope(fit.cov), fit.df, fit.resid, fit.rho)
    avg, se, eff, cf = _average_effect(fit, n, n_pre, seas)
    cf_mean = float(cf @ fit.beta)
    grad_rel = (eff * cf_mean - cf * avg) / cf_mean**2 if cf_mean != 0 else np.full(eff.size, np.nan)
    rel = avg / cf_mean if cf_mean != 0 else math.nan
    se_rel = math.sqrt(max(float(grad_rel @ fit.cov @ grad_rel), 0.0)) if cf_mean != 0 else math.nan
    m = n - n_pre
    pvalue = float(2 * stats.t.sf(abs(avg / se), fit.df)) if se > 0 else math.nan
    p = fit.beta.size
    se_level = float(np.sqrt(max(fit.cov[p - 2, p - 2], 0.0)))
    se_slope = float(np.sqrt(max(fit.cov[p - 1, p - 1], 0.0)))
    q_mde = (
        float(stats.t.ppf(0.5 + level / 2, fit.df) + stats.t.ppf(POWER, fit.df)) if fit.df > 0 else math.nan
    )
    pre_resid = fit.resid[: int(ok[:n_pre].sum())]
    counterfactual = _design(n, n_pre, seas, post_terms=False) @ fit.beta[: p - 2]
    placebo_est, placebo_p = (math.nan, math.nan)
    if placebo:
        placebo_est, placebo_p = _placebo_in_time(y_all[:n_pre], seas, level, min_pre)
    return ItsResult(
        estimate=rel,
        ci=_t_ci(rel, se_rel, fit.df, level),
        pvalue=pvalue,
        n=int(ok.sum()),
        n_pre=pre_ok,
        n_post=post_ok,
        average_effect=avg,
        average_effect_ci=_t_ci(avg, se, fit.df, level),
        cumulative=avg * m,
        cumulative_ci=_t_ci(avg * m, se * m, fit.df, level),
        level_change=float(fit.beta[p - 2]),
        level_change_ci=_t_ci(float(fit.beta[p - 2]), se_level, fit.df, level),
        slope_change=float(fit.beta[p - 1]),
        slope_change_ci=_t_ci(float(fit.beta[p - 1]), se_slope, fit.df, level),
        counterfactual_mean=cf_mean,
        pre_rmspe=float(np.sqrt(np.mean(pre_resid**2))),
        mde=q_mde * se,
        mde_relative=q_mde * se_rel,
        placebo_estimate=placebo_est,
        placebo_pvalue=placebo_p,
        counterfactual=tuple(float(v) for v in counterfactual),
    )


def _pin_slope(cov: FloatArray) -> FloatArray:
    out = cov.copy()
    out[-1, :] = 0.0
    out[:, -1] = 0.0
    return out


def _placebo_in_time(pre: FloatArray, season: int | None, level: float, min_pre: int) -> tuple[float, float]:
    """Relative effect and p-value of a fake rollout at the pre-period's midpoint."""
    half = pre.size // 2
    if half < min_pre or pre.size - half < 2:
        return math.nan, math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = interrupted_time_series(pre, half, season=season, level=level, min_pre=min_pre, placebo=False)
    return res.estimate, res.pvalue


__all__ = ["ITS_ASSUMPTIONS", "Ar1Fit", "ItsResult", "ar1_regression", "interrupted_time_series", "ols_ar1"]
