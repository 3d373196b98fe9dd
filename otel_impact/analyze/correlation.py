"""Model↔business correlation that does not lie about autocorrelated time series.

Two series sampled per time bucket (a model metric such as CTR or AUC, a business metric such as
purchases per user) are correlated with Pearson's r or Spearman's ρ. Neighbouring buckets of a
time series are not independent, so the usual ``n − 3`` degrees of freedom overstate the
evidence. Every interval and p-value here uses an **effective sample size** instead:

* ``"bartlett"`` (default) — the large-lag ACF sum of Bartlett (1946), as used by Pyper &
  Peterman (1998): ``n_eff = n / (1 + 2 Σ_{k=1..K} ρ_x(k) ρ_y(k))`` with the biased sample ACF
  (the one ``statsmodels.tsa.stattools.acf`` returns) and ``K = min(10, n // 4)`` lags;
* ``"bretherton"`` — the AR(1) shortcut of Bretherton et al. (1999):
  ``n_eff = n (1 − r1x r1y) / (1 + r1x r1y)`` with the lag-1 autocorrelations;
* ``"none"`` — ``n_eff = n`` (independent buckets; matches ``scipy.stats.pearsonr``).

``n_eff`` is clipped to ``[2, n]``. The confidence interval is the Fisher-z interval
``tanh(atanh(r) ± z_{1−α/2} · se)`` with ``se = 1/√(n_eff − 3)`` for Pearson and
``se = √(1.06/(n_eff − 3))`` for Spearman (Fieller, Hartley & Pearson 1957); the p-value is the
two-sided t-test ``t = r √((n_eff − 2)/(1 − r²))`` on ``n_eff − 2`` degrees of freedom.

The lag scan correlates ``model[t]`` with ``business[t + k]`` for ``k = 0..max_lag`` (business
lagging model), picks the lag with the smallest p-value and corrects that p-value for having
looked at several lags with Šidák: ``p_adj = 1 − (1 − p_min)^L`` (``L`` = lags scanned).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=60)
>>> y = np.r_[rng.normal(size=2), x[:-2]] + 0.5 * rng.normal(size=60)
>>> lag_scan(x, y, max_lag=4).best_lag
2
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from otel_impact.analyze.results import (
    ConfidenceInterval,
    FloatArray,
    as_float_array,
    check_level,
    nan_ci,
    warn_degenerate,
)

Method = Literal["pearson", "spearman"]
NeffMethod = Literal["bartlett", "bretherton", "none"]
METHODS: tuple[Method, ...] = ("pearson", "spearman")
NEFF_METHODS: tuple[NeffMethod, ...] = ("bartlett", "bretherton", "none")
MIN_POINTS = 3  # fewer aligned points than this give NaN


@dataclass(frozen=True)
class Correlation:
    """One correlation: ``estimate`` (r or ρ), Fisher-z ``ci``, autocorrelation-aware ``pvalue``."""

    estimate: float
    ci: ConfidenceInterval
    pvalue: float
    n: int
    n_eff: float
    method: str
    lag: int = 0


@dataclass(frozen=True)
class LagScan:
    """Correlation at every lag ``0..max_lag`` and the best one, with a Šidák-corrected p-value."""

    by_lag: tuple[Correlation, ...]
    best_lag: int  # -1 when no lag had enough data
    best: Correlation
    pvalue_adjusted: float
    lags_scanned: int
    correction: str = "sidak"

    @property
    def estimate(self) -> float:
        return self.best.estimate

    @property
    def ci(self) -> ConfidenceInterval:
        return self.best.ci

    @property
    def pvalue(self) -> float:
        return self.pvalue_adjusted

    @property
    def n(self) -> int:
        return self.best.n


def acf(x: ArrayLike, nlags: int) -> FloatArray:
    """Biased sample autocorrelation at lags ``0..nlags`` (same estimator as statsmodels' ``acf``).

    A constant series has no defined ACF: the result is NaN beyond lag 0.
    """
    arr = as_float_array(x, "x")
    if nlags < 0:
        raise ValueError(f"nlags must be >= 0, got {nlags}")
    n = arr.size
    nlags = min(nlags, max(n - 1, 0))
    d = arr - arr.mean() if n else arr
    c0 = float(d @ d) / n if n else math.nan
    out = np.full(nlags + 1, math.nan)
    if n == 0 or c0 == 0.0:
        out[0] = 1.0 if n else math.nan
        return out
    for k in range(nlags + 1):
        out[k] = float(d[: n - k] @ d[k:]) / n / c0
    return out


def effective_n(
    x: ArrayLike, y: ArrayLike, method: NeffMethod = "bartlett", max_lag: int | None = None
) -> float:
    """Effective number of independent pairs of two autocorrelated series (see module doc).

    >>> round(effective_n(np.arange(10.0), np.arange(10.0)[::-1] ** 2, "none"), 1)
    10.0
    """
    xa, ya = as_float_array(x, "x"), as_float_array(y, "y")
    if xa.size != ya.size:
        raise ValueError(f"x and y must have the same length, got {xa.size} and {ya.size}")
    if method not in NEFF_METHODS:
        raise ValueError(f"method must be one of {NEFF_METHODS}, got {method!r}")
    n = xa.size
    if method == "none" or n < 4:
        return float(n)
    if method == "bretherton":
        r1 = acf(xa, 1)[1] * acf(ya, 1)[1]
        if not math.isfinite(r1):
            return float(n)
        neff = n * (1 - r1) / (1 + r1)
    else:
        k = min(10, n // 4) if max_lag is None else min(max_lag, n - 1)
        if k < 1:
            return float(n)
        s = float(np.nansum(acf(xa, k)[1:] * acf(ya, k)[1:]))
        denom = 1.0 + 2.0 * s
        neff = n / denom if denom > 0 else float(n)
    return float(min(max(neff, 2.0), n))


def _rankdata(a: FloatArray) -> FloatArray:
    return np.asarray(stats.rankdata(a), dtype=np.float64)


def correlate(
    x: ArrayLike,
    y: ArrayLike,
    method: Method = "pearson",
    *,
    level: float = 0.95,
    neff_method: NeffMethod = "bartlett",
    lag: int = 0,
) -> Correlation:
    """Correlation of aligned series ``x`` and ``y`` with an autocorrelation-aware CI and p-value.

    Pairs where either value is NaN are dropped. Fewer than 3 pairs or a constant series give NaN
    fields and a :class:`~otel_impact.analyze.results.DegenerateDataWarning`.

    >>> c = correlate([1, 2, 3, 4, 5], [2, 4, 5, 4, 6], neff_method="none")
    >>> round(c.estimate, 3), c.n
    (0.853, 5)
    """
    xa, ya = as_float_array(x, "x"), as_float_array(y, "y")
    if xa.size != ya.size:
        raise ValueError(f"x and y must have the same length, got {xa.size} and {ya.size}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if neff_method not in NEFF_METHODS:
        raise ValueError(f"neff_method must be one of {NEFF_METHODS}, got {neff_method!r}")
    level = check_level(level)
    ok = np.isfinite(xa) & np.isfinite(ya)
    xa, ya = xa[ok], ya[ok]
    n = int(xa.size)
    nan = Correlation(math.nan, nan_ci(level), math.nan, n, math.nan, method, lag)
    if n < MIN_POINTS:
        warn_degenerate(f"{method} correlation needs at least {MIN_POINTS} points, got {n}")
        return nan
    if np.ptp(xa) == 0 or np.ptp(ya) == 0:
        warn_degenerate(f"{method} correlation is undefined for a constant series")
        return nan
    if method == "spearman":
        xa, ya = _rankdata(xa), _rankdata(ya)
    r = float(np.clip(np.corrcoef(xa, ya)[0, 1], -1.0, 1.0))
    neff = effective_n(xa, ya, neff_method)
    return Correlation(r, fisher_ci(r, neff, method, level), t_pvalue(r, neff), n, neff, method, lag)


def fisher_ci(r: float, n_eff: float, method: str = "pearson", level: float = 0.95) -> ConfidenceInterval:
    """Fisher-z interval for a correlation estimated from ``n_eff`` independent pairs."""
    if not (math.isfinite(r) and n_eff > 3):
        return nan_ci(level)
    var = (1.06 if method == "spearman" else 1.0) / (n_eff - 3.0)
    z = math.atanh(min(max(r, -0.9999999999), 0.9999999999))
    half = float(stats.norm.ppf(0.5 + level / 2)) * math.sqrt(var)
    return ConfidenceInterval(math.tanh(z - half), math.tanh(z + half), level)


def t_pvalue(r: float, n_eff: float) -> float:
    """Two-sided p-value of H0: ρ = 0 from the t-statistic on ``n_eff − 2`` degrees of freedom."""
    if not (math.isfinite(r) and n_eff > 2):
        return math.nan
    if abs(r) >= 1.0:
        return 0.0
    df = n_eff - 2.0
    t = r * math.sqrt(df / (1.0 - r * r))
    return float(2.0 * stats.t.sf(abs(t), df))


def sidak(p: float, m: int) -> float:
    """Šidák family-wise p-value for the smallest of ``m`` p-values: ``1 − (1 − p)^m``."""
    if m < 1:
        raise ValueError(f"m must be >= 1, got {m}")
    if not math.isfinite(p):
        return math.nan
    return float(-math.expm1(m * math.log1p(-min(p, 1.0)))) if p < 1.0 else 1.0


def lag_scan(
    model: ArrayLike,
    business: ArrayLike,
    max_lag: int,
    method: Method = "pearson",
    *,
    level: float = 0.95,
    neff_method: NeffMethod = "bartlett",
    min_points: int = MIN_POINTS,
) -> LagScan:
    """Correlate ``model[t]`` with ``business[t + k]`` for every lag ``k`` in ``0..max_lag``.

    The best lag has the smallest p-value (ties: the shorter lag); its p-value is Šidák-corrected
    over the lags that had at least ``min_points`` pairs.
    """
    xa, ya = as_float_array(model, "model"), as_float_array(business, "business")
    if xa.size != ya.size:
        raise ValueError(f"model and business must have the same length, got {xa.size} and {ya.size}")
    if max_lag < 0:
        raise ValueError(f"max_lag must be >= 0, got {max_lag}")
    if min_points < MIN_POINTS:
        raise ValueError(f"min_points must be >= {MIN_POINTS}, got {min_points}")
    n = xa.size
    results: list[Correlation] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in range(max_lag + 1):
            xs, ys = xa[: n - k] if k else xa, ya[k:]
            if int(np.sum(np.isfinite(xs) & np.isfinite(ys))) < min_points:
                results.append(Correlation(math.nan, nan_ci(level), math.nan, 0, math.nan, method, k))
                continue
            results.append(correlate(xs, ys, method, level=level, neff_method=neff_method, lag=k))
    valid = [c for c in results if math.isfinite(c.pvalue)]
    if not valid:
        warn_degenerate(f"lag scan: no lag in 0..{max_lag} has {min_points} usable points")
        return LagScan(tuple(results), -1, results[0], math.nan, 0)
    best = min(valid, key=lambda c: (c.pvalue, c.lag))
    return LagScan(tuple(results), best.lag, best, sidak(best.pvalue, len(valid)), len(valid))


@dataclass(frozen=True)
class RankedSegment:
    """A segment's place in the ranking; ``strength`` is the CI bound nearest zero (0 if it spans 0)."""

    segment: Any
    rank: int
    strength: float
    estimate: float
    pvalue: float
    n: int


def conservative_strength(c: Correlation | LagScan) -> float:
    """|r| at the CI bound nearest zero, 0 when the interval covers zero or is undefined."""
    ci = c.ci
    if ci.is_nan or ci.low <= 0.0 <= ci.high:
        return 0.0
    return float(min(abs(ci.low), abs(ci.high)))


def rank_segments(results: Mapping[Any, Correlation | LagScan]) -> list[RankedSegment]:
    """Rank segments by how strongly the business metric follows the model metric there.

    Key: the conservative strength (CI bound nearest zero), then |estimate|; segments with an
    undefined estimate go last. "Where model improvements matter most" is the top of this list.
    """
    items: Sequence[tuple[Any, Correlation | LagScan]] = list(results.items())

    def key(item: tuple[Any, Correlation | LagScan]) -> tuple[float, float]:
        c = item[1]
        est = abs(c.estimate) if math.isfinite(c.estimate) else -1.0
        return (-conservative_strength(c), -est)

    ordered = sorted(items, key=key)
    return [
        RankedSegment(seg, i + 1, conservative_strength(c), c.estimate, c.pvalue, c.n)
        for i, (seg, c) in enumerate(ordered)
    ]


__all__ = [
    "METHODS",
    "NEFF_METHODS",
    "Correlation",
    "LagScan",
    "RankedSegment",
    "acf",
    "conservative_strength",
    "correlate",
    "effective_n",
    "fisher_ci",
    "lag_scan",
    "rank_segments",
    "sidak",
    "t_pvalue",
]
