"""Transfer function: how much the business metric moves per unit of the model metric.

``business_t = a + b · model_t + e_t`` is fitted by OLS; the slope ``b`` is the transfer
function and ``elasticity = b · mean(model) / mean(business)`` (% business change per % model
change at the means). Errors of bucketed time series are autocorrelated, so the standard error is
**Newey–West (HAC)** with Bartlett weights and ``maxlags = ⌊4 (n/100)^{2/9}⌋`` by default,
without small-sample correction and with normal p-values and intervals — the same as
``statsmodels`` ``OLS(...).fit(cov_type="HAC", cov_kwds={"maxlags": L})``.

Saturation: the slope is re-fitted on a rolling window; the **recent** window (last ``window``
buckets) is compared with the **baseline** (every bucket before it) by
``t = (b_recent − b_base) / √(v_recent + v_base)`` where each ``v`` is the larger of the HAC
variance times ``n/(n − 2)`` and the classical OLS variance (HAC errors from a short window are
too small), referred to a t
distribution on the recent window's ``n − 2`` degrees of freedom. A one-sided test in the
direction of weakening (``|b|`` shrinking towards 0) below ``alpha`` flags ``saturated`` — provided
the baseline slope itself is significant at ``alpha`` (no relationship, nothing to saturate).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=80)
>>> round(fit_transfer(x, 2.0 * x + 0.1 * rng.normal(size=80)).estimate, 1)
2.0
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from otel_impact.analyze.results import (
    ConfidenceInterval,
    FloatArray,
    as_float_array,
    check_alpha,
    check_level,
    nan_ci,
    warn_degenerate,
)


@dataclass(frozen=True)
class Transfer:
    """OLS slope of business on model with a HAC interval; ``estimate`` is the slope."""

    estimate: float
    ci: ConfidenceInterval
    pvalue: float
    n: int
    method: str
    se: float
    intercept: float
    elasticity: float
    elasticity_ci: ConfidenceInterval
    maxlags: int
    se_ols: float = math.nan  # classical (iid) standard error, for the short-window saturation test


@dataclass(frozen=True)
class Saturation:
    """Rolling slopes and the recent-vs-baseline weakening test."""

    rolling_slope: FloatArray  # index = last bucket of each window; NaN before the first full window
    rolling_se: FloatArray
    baseline: Transfer
    recent: Transfer
    change: float  # b_recent − b_base
    pvalue: float  # one-sided, weakening
    saturated: bool
    window: int


def default_maxlags(n: int) -> int:
    """Newey–West rule of thumb ``⌊4 (n/100)^{2/9}⌋``."""
    return math.floor(4 * (n / 100.0) ** (2.0 / 9.0)) if n > 0 else 0


def fit_transfer(
    model: ArrayLike, business: ArrayLike, *, maxlags: int | None = None, level: float = 0.95
) -> Transfer:
    """OLS slope of ``business`` on ``model`` with a Newey–West interval (NaN pairs dropped)."""
    x, y = as_float_array(model, "model"), as_float_array(business, "business")
    if x.size != y.size:
        raise ValueError(f"model and business must have the same length, got {x.size} and {y.size}")
    if maxlags is not None and maxlags < 0:
        raise ValueError(f"maxlags must be >= 0, got {maxlags}")
    level = check_level(level)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    n = int(x.size)
    lags = default_maxlags(n) if maxlags is None else min(maxlags, max(n - 1, 0))
    if n < 3 or np.ptp(x) == 0:
        warn_degenerate(f"transfer slope needs >= 3 points and a varying model metric (n={n})")
        return Transfer(math.nan, nan_ci(level), math.nan, n, "ols-hac", math.nan, math.nan, math.nan,
                        nan_ci(level), lags)  # fmt: skip
    X = np.column_stack([np.ones(n), x])
    xtx_inv = np.linalg.inv(X.T @ X)
    beta = xtx_inv @ X.T @ y
    u = y - X @ beta
    g = X * u[:, None]
    s = g.T @ g
    for lag in range(1, lags + 1):
        w = 1.0 - lag / (lags + 1.0)
        gamma = g[lag:].T @ g[:-lag]
        s += w * (gamma + gamma.T)
    cov = xtx_inv @ s @ xtx_inv
    se = math.sqrt(max(float(cov[1, 1]), 0.0))
    se_ols = math.sqrt(float(u @ u) / (n - 2) * float(xtx_inv[1, 1])) if n > 2 else math.nan
    b = float(beta[1])
    zcrit = float(stats.norm.ppf(0.5 + level / 2))
    ci = ConfidenceInterval(b - zcrit * se, b + zcrit * se, level)
    p = float(2 * stats.norm.sf(abs(b) / se)) if se > 0 else (0.0 if b != 0 else math.nan)
    my = float(y.mean())
    scale = float(x.mean()) / my if my != 0 else math.nan
    if math.isfinite(scale):
        e_lo, e_hi = sorted((ci.low * scale, ci.high * scale))
        el_ci = ConfidenceInterval(e_lo, e_hi, level)
    else:
        el_ci = nan_ci(level)
    return Transfer(b, ci, p, n, "ols-hac", se, float(beta[0]), b * scale, el_ci, lags, se_ols)


def saturation(
    model: ArrayLike, business: ArrayLike, *, window: int = 14, alpha: float = 0.05, level: float = 0.95
) -> Saturation:
    """Rolling transfer slope and a test that the recent slope weakened against the baseline."""
    x, y = as_float_array(model, "model"), as_float_array(business, "business")
    if x.size != y.size:
        raise ValueError(f"model and business must have the same length, got {x.size} and {y.size}")
    if window < 4:
        raise ValueError(f"window must be >= 4, got {window}")
    alpha = check_alpha(alpha)
    n = x.size
    slopes, ses = np.full(n, np.nan), np.full(n, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for end in range(window - 1, n):
            fit = fit_transfer(x[end - window + 1 : end + 1], y[end - window + 1 : end + 1], level=level)
            slopes[end], ses[end] = fit.estimate, fit.se
        if n >= 2 * window:
            base = fit_transfer(x[: n - window], y[: n - window], level=level)
            recent = fit_transfer(x[n - window :], y[n - window :], level=level)
        else:
            base = recent = fit_transfer(x[:0], y[:0], level=level)
    if n < 2 * window or not (math.isfinite(base.se) and math.isfinite(recent.se)):
        warn_degenerate(f"saturation test needs {2 * window} buckets with a varying model metric, got {n}")
        return Saturation(slopes, ses, base, recent, math.nan, math.nan, False, window)
    change = recent.estimate - base.estimate
    # HAC errors are too small in a short window: each variance is the larger of the HAC one
    # (times n/(n − 2)) and the classical OLS one, referred to t on the recent window's n − 2 df
    v_recent = max(recent.se**2 * recent.n / (recent.n - 2), recent.se_ols**2)
    v_base = max(base.se**2 * base.n / (base.n - 2), base.se_ols**2)
    se = math.sqrt(v_recent + v_base)
    direction = -1.0 if base.estimate >= 0 else 1.0  # weakening = moving towards zero
    p = float(stats.t.sf(direction * change / se, recent.n - 2)) if se > 0 else math.nan
    # only a relationship that existed (baseline slope significant) can saturate
    flagged = bool(p < alpha and base.pvalue < alpha)
    return Saturation(slopes, ses, base, recent, change, p, flagged, window)


__all__ = ["Saturation", "Transfer", "default_maxlags", "fit_transfer", "saturation"]
