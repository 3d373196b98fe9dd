"""Alert rules: one persistence policy, calibrated per-bucket tests, and multiplicity control.

Every alert rule of the analyzer goes through the same three steps:

1. **A per-bucket test** with a stated noise model. Threshold rules (latency p95, drift score)
   compare a value with the user's threshold; statistical rules give a p-value per bucket:
   :func:`adaptive_test` standardises each bucket's deviation from the EWMA of the buckets
   before it by the *observed* spread of the recent residuals (robust scale, ``1.4826 · MAD``),
   optionally after dividing by a binomial standard error so that buckets with more labels count
   more (the quasi-binomial model: the dispersion ``φ = scale²`` is estimated from the data and
   never assumed to be 1; see :func:`dispersion`).
2. **Multiplicity control** across buckets, series (models, segments) and metrics of one rule:
   :func:`fdr_condition` applies Benjamini–Hochberg (``statsmodels.stats.multitest``) to every
   p-value the rule computed in the run, so under the global null the chance of *any* rejected
   bucket in a run is at most ``q`` (BH controls the family-wise rate when all nulls are true).
3. **Persistence and hysteresis** (:class:`Persistence`, :func:`episodes`): a rule fires when
   its condition held in ``trigger`` of the last ``within`` known buckets (and holds now), and
   resolves only after ``clear`` consecutive known buckets without it; unknown (NaN) buckets
   neither trigger nor clear. One episode gives one ``firing`` and one ``resolved`` transition,
   never a flapping sequence.

Message text is built by the caller with plain concatenation from structured fields; nothing
here formats a string that could hold telemetry (``Alert.value`` carries the number).

>>> [(t.index, t.state) for t in episodes([False, True, True, False, True, False, False])]
[(1, 'firing'), (6, 'resolved')]
>>> [(t.index, t.state) for t in Persistence(2, 3, 2).episodes([0, 1, 0, 1, 1, 0, 0])]
[(3, 'firing'), (6, 'resolved')]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats
from statsmodels.stats.multitest import multipletests

from otel_impact.analyze.results import FloatArray, as_float_array

State = Literal["firing", "resolved"]
Op = Literal[">", ">=", "<", "<="]
Severity = Literal["info", "warning", "critical"]
Side = Literal["two-sided", "less", "greater"]

DEFAULT_THRESHOLDS: Mapping[str, float] = {
    "accuracy_drop": 0.02,  # absolute drop below the EWMA baseline (2 percentage points)
    "latency_p95_ms": 200.0,
    "drift_score": 0.7,
    "business_impact": 0.005,  # relative lift below 0.5 %
}
MAD_SCALE = 1.482602218505602  # 1 / Φ⁻¹(3/4): MAD → σ for normal data
# Asymptotic efficiency of the MAD scale relative to the standard deviation for normal data
# (Rousseeuw & Croux 1993, JASA 88:1273): a MAD scale from k residuals is worth a
# chi-square with about 0.37·k degrees of freedom, which sets the t reference of the z-score.
MAD_EFFICIENCY = 0.3675


@dataclass(frozen=True)
class Transition:
    """A change of alert state at bucket ``index``."""

    index: int
    state: State


@dataclass(frozen=True)
class Persistence:
    """The one persistence/hysteresis policy of every alert rule (see module doc).

    ``trigger`` of the last ``within`` known buckets must hold (the current one included) to
    fire; ``clear`` consecutive known buckets without the condition resolve.
    """

    trigger: int = 2
    within: int = 3
    clear: int = 3

    def __post_init__(self) -> None:
        if self.trigger < 1:
            raise ValueError(f"trigger must be >= 1, got {self.trigger}")
        if self.within < self.trigger:
            raise ValueError(f"within must be >= trigger ({self.trigger}), got {self.within}")
        if self.clear < 1:
            raise ValueError(f"clear must be >= 1, got {self.clear}")

    def episodes(self, condition: ArrayLike, hold: ArrayLike | None = None) -> list[Transition]:
        """:func:`episodes` with this policy."""
        return episodes(
            condition, trigger_after=self.trigger, within=self.within, clear_after=self.clear, hold=hold
        )


@dataclass(frozen=True)
class Alert:
    """One alert transition, ready for the JSON ``alerts`` list (the stage turns ``index`` into ``at``)."""

    rule: str
    severity: Severity
    index: int
    state: State
    message: str
    attributes: Mapping[str, str | float | int] = field(default_factory=dict)
    value: float = math.nan


@dataclass(frozen=True)
class AdaptiveTest:
    """Per-bucket deviation from the EWMA baseline: ``z``, its p-value and the scale used.

    ``baseline`` is the EWMA of the buckets before each bucket; ``scale`` the robust scale of the
    (standardised) residuals before it (≥ 1 with a binomial noise model: the dispersion); ``df``
    the degrees of freedom of the t reference. NaN where the history is too short.
    """

    z: FloatArray
    pvalue: FloatArray
    baseline: FloatArray
    scale: FloatArray
    df: FloatArray
    side: Side
    method: str = "ewma-robust-z"


def _condition_array(condition: ArrayLike) -> FloatArray:
    arr = np.asarray(condition, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"condition must be one-dimensional, got shape {arr.shape}")
    return arr


def episodes(
    condition: ArrayLike,
    *,
    trigger_after: int = 1,
    within: int | None = None,
    clear_after: int = 2,
    hold: ArrayLike | None = None,
) -> list[Transition]:
    """De-duplicate a per-bucket condition into ``firing`` / ``resolved`` transitions.

    Fires at a true bucket when at least ``trigger_after`` of the last ``within`` known buckets
    (default ``within = trigger_after``: consecutive) are true; resolves after ``clear_after``
    consecutive known false buckets. ``hold`` (optional, same length) is a looser condition that
    keeps a firing alert firing: once fired, a bucket only counts towards clearing when ``hold``
    is false there too.
    """
    if trigger_after < 1:
        raise ValueError(f"trigger_after must be >= 1, got {trigger_after}")
    within = trigger_after if within is None else within
    if within < trigger_after:
        raise ValueError(f"within must be >= trigger_after ({trigger_after}), got {within}")
    if clear_after < 1:
        raise ValueError(f"clear_after must be >= 1, got {clear_after}")
    cond = _condition_array(condition)
    keep = cond if hold is None else _condition_array(hold)
    if keep.size != cond.size:
        raise ValueError(f"hold must have {cond.size} values, got {keep.size}")
    out: list[Transition] = []
    firing = False
    recent: list[bool] = []
    run_false = 0
    for i, c in enumerate(cond):
        if math.isnan(c):
            continue
        hit = bool(c)
        recent = [*recent[-(within - 1) :], hit] if within > 1 else [hit]
        if hit:
            run_false = 0
            if not firing and sum(recent) >= trigger_after:
                firing = True
                out.append(Transition(i, "firing"))
        else:
            if firing and keep[i] == 1.0:
                run_false = 0
                continue
            run_false += 1
            if firing and run_false >= clear_after:
                firing = False
                recent = []
                out.append(Transition(i, "resolved"))
    return out


def threshold_condition(values: ArrayLike, op: Op, threshold: float) -> FloatArray:
    """1.0 where ``values op threshold`` holds, 0.0 where not, NaN where the value is NaN."""
    v = as_float_array(values, "values")
    if op not in (">", ">=", "<", "<="):
        raise ValueError(f"op must be one of >, >=, <, <=, got {op!r}")
    if not math.isfinite(threshold):
        raise ValueError(f"threshold must be finite, got {threshold!r}")
    with np.errstate(invalid="ignore"):
        hit = {">": v > threshold, ">=": v >= threshold, "<": v < threshold, "<=": v <= threshold}[op]
    return np.where(np.isnan(v), np.nan, hit.astype(np.float64))


def gate(condition: ArrayLike, counts: ArrayLike, min_count: float) -> FloatArray:
    """``condition`` where ``counts >= min_count``; NaN (unknown) where the bucket is too thin.

    >>> gate([1.0, 1.0, 0.0], [50, 5, 50], 30).tolist()
    [1.0, nan, 0.0]
    """
    cond = _condition_array(condition)
    n = as_float_array(counts, "counts")
    if n.size != cond.size:
        raise ValueError(f"counts must have {cond.size} values, got {n.size}")
    with np.errstate(invalid="ignore"):
        return np.where(n >= min_count, cond, np.nan)


def ewma_baseline(values: ArrayLike, halflife: float, season: int | None = None) -> FloatArray:
    """EWMA of the buckets *before* each bucket (NaNs skipped); per phase when ``season`` is set."""
    v = as_float_array(values, "values")
    if not halflife > 0:
        raise ValueError(f"halflife must be > 0, got {halflife!r}")
    if season is not None and season < 1:
        raise ValueError(f"season must be >= 1, got {season}")
    decay = 0.5 ** (1.0 / halflife)
    period = season or 1
    out = np.full(v.size, np.nan)
    level = [math.nan] * period
    for i, x in enumerate(v):
        p = i % period
        out[i] = level[p]
        if math.isfinite(x):
            level[p] = x if math.isnan(level[p]) else decay * level[p] + (1 - decay) * x
    return out


def _lag1(x: FloatArray, use: np.ndarray | None = None) -> float:
    """Lag-1 autocorrelation of ``x`` from the adjacent pairs where both are finite (and ``use``)."""
    ok = np.isfinite(x) if use is None else np.isfinite(x) & use
    pair = ok[1:] & ok[:-1]
    if pair.sum() < 4:
        return 0.0
    d = x - x[ok].mean()
    den = float(d[ok] @ d[ok]) / ok.sum()
    return float(d[1:][pair] @ d[:-1][pair]) / pair.sum() / den if den > 0 else 0.0


def _winsor_consistency(c: float) -> float:
    """√E[min(|Z|, c)²] for standard normal Z: a winsorised SD divided by it estimates σ."""
    tail = float(stats.norm.sf(c))
    return math.sqrt(1 - 2 * c * float(stats.norm.pdf(c)) - 2 * tail + 2 * c * c * tail)


def adaptive_test(
    values: ArrayLike,
    *,
    halflife: float = 7.0,
    window: int = 28,
    min_history: int = 7,
    season: int | None = None,
    n: ArrayLike | None = None,
    side: Side = "two-sided",
    clip: float | None = 3.0,
) -> AdaptiveTest:
    """Deviation of each bucket from its EWMA baseline with an empirical noise model.

    Residual ``r_t = v_t − baseline_t``; with ``n`` (trials per bucket, e.g. labelled
    predictions for an accuracy) it is first divided by the binomial standard error
    ``√(b(1 − b)/n_t)`` of the baseline ``b`` (``b(1 − b)`` floored at ``1/n_t``). The scale is estimated from the last ``window``
    (standardised) residuals before ``t`` — the observed dispersion, floored at 1 with ``n`` (a
    quasi-binomial never assumes less noise than the binomial): with ``clip``, the standard
    deviation of the residuals winsorised at ``clip`` robust scales (``1.4826 · MAD``), made
    consistent for normal data; without, ``1.4826 · MAD`` itself. ``z_t = r_t / scale_t`` is
    referred to a t distribution whose degrees of freedom reflect the estimator's efficiency
    (``k − 1`` for the winsorised SD, ``0.37 k`` for the MAD) times ``(1 − ρ)/(1 + ρ)`` for the
    lag-1 autocorrelation ``ρ`` of the unclipped residuals (at least 1), so a scale estimated
    from few or autocorrelated points gives wider tails.

    With ``clip`` the baseline is a robust (Huberised) EWMA: a value further than ``clip`` scales
    from the baseline enters it clipped to that distance, so a level shift keeps standing out for
    several buckets instead of being absorbed by the baseline it is compared with (``None``: the
    plain EWMA of :func:`ewma_baseline`); the residual enters the scale's memory clipped the same
    way, so the shift does not inflate the noise it is judged against.

    >>> rng = np.random.default_rng(0)
    >>> v = 100 + rng.normal(size=60); v[50] -= 10
    >>> res = adaptive_test(v, side="less")
    >>> bool(res.pvalue[50] < 1e-3), bool(np.nanmin(np.delete(res.pvalue, 50)) > 1e-3)
    (True, True)
    """
    v = as_float_array(values, "values")
    if window < 2:
        raise ValueError(f"window must be >= 2, got {window}")
    if min_history < 2:
        raise ValueError(f"min_history must be >= 2, got {min_history}")
    if side not in ("two-sided", "less", "greater"):
        raise ValueError(f"side must be two-sided, less or greater, got {side!r}")
    if not halflife > 0:
        raise ValueError(f"halflife must be > 0, got {halflife!r}")
    if season is not None and season < 1:
        raise ValueError(f"season must be >= 1, got {season}")
    if clip is not None and not clip > 0:
        raise ValueError(f"clip must be > 0 or None, got {clip!r}")
    trials = None
    if n is not None:
        trials = as_float_array(n, "n")
        if trials.size != v.size:
            raise ValueError(f"n must have {v.size} values, got {trials.size}")
    decay = 0.5 ** (1.0 / halflife)
    period = season or 1
    level = [math.nan] * period
    base, resid = np.full(v.size, np.nan), np.full(v.size, np.nan)
    memory = np.full(v.size, np.nan)  # residuals as remembered for the scale (clipped like the baseline)
    plain = np.zeros(v.size, dtype=bool)  # not clipped: these pairs estimate the autocorrelation
    z, scale, df = np.full(v.size, np.nan), np.full(v.size, np.nan), np.full(v.size, np.nan)
    for i, x in enumerate(v):
        ph = i % period
        base[i] = b = level[ph]
        if not math.isfinite(x):
            continue
        se = 1.0
        if trials is not None:
            # b(1 − b) floored at 1/n: a baseline at 0 or 1 still has one trial's worth of noise
            ok = trials[i] > 0 and math.isfinite(b)
            se = math.sqrt(max(b * (1 - b), 1 / trials[i]) / trials[i]) if ok else math.nan
        resid[i] = (x - b) / se
        past = memory[max(0, i - window) : i]
        past = past[np.isfinite(past)]
        s = math.nan
        if math.isfinite(resid[i]) and past.size >= 3:  # ≥ 3 residuals: a provisional scale for clipping
            s = MAD_SCALE * float(np.median(np.abs(past - np.median(past))))
            if s <= 0:
                s = float(np.std(past, ddof=1))
            if trials is not None:
                s = max(s, 1.0)
        if s > 0 and past.size >= min_history:
            rho = min(max(_lag1(resid[max(0, i - window) : i], plain[max(0, i - window) : i]), 0.0), 0.95)
            shrink = (1 - rho) / (1 + rho)
            if clip is None:  # the MAD scale: worth 0.37 k degrees of freedom
                scale[i], df[i] = s, max(1.0, MAD_EFFICIENCY * past.size * shrink)
            else:  # the winsorised standard deviation of the clipped memory: nearly fully efficient
                w = float(np.std(past, ddof=1)) / _winsor_consistency(clip)
                scale[i] = max(w, 1.0) if trials is not None else w
                df[i] = max(1.0, (past.size - 1) * shrink)
            if scale[i] > 0:
                z[i] = resid[i] / scale[i]
        memory[i] = resid[i]
        if clip is not None and s > 0:
            memory[i] = max(-clip * s, min(clip * s, resid[i]))
        plain[i] = memory[i] == resid[i]
        if math.isnan(b):
            level[ph] = x
            continue
        entered = x
        if clip is not None and s > 0 and math.isfinite(se):
            entered = b + max(-clip * s, min(clip * s, resid[i])) * se
        level[ph] = decay * b + (1 - decay) * entered
    with np.errstate(invalid="ignore"):
        if side == "less":
            p = stats.t.cdf(z, df)
        elif side == "greater":
            p = stats.t.sf(z, df)
        else:
            p = 2 * stats.t.sf(np.abs(z), df)
    return AdaptiveTest(z, np.where(np.isfinite(z), p, np.nan), base, scale, df, side)


def robust_z(
    values: ArrayLike,
    *,
    halflife: float = 7.0,
    window: int = 28,
    min_history: int = 7,
    season: int | None = None,
) -> FloatArray:
    """Robust z-score of each bucket against its plain EWMA baseline (:func:`adaptive_test`'s ``z``)."""
    return adaptive_test(
        values, halflife=halflife, window=window, min_history=min_history, season=season, clip=None
    ).z


def dispersion(successes: ArrayLike, trials: ArrayLike) -> float:
    """Pearson dispersion ``φ = X² / (k − 1)`` of per-bucket binomial counts around their pooled
    rate (the quasi-binomial scale of an intercept-only GLM; 1 for binomial data, > 1 when the
    rate itself varies from bucket to bucket). NaN with fewer than two usable buckets.

    >>> round(dispersion([10, 20, 30], [100, 100, 100]), 4)
    6.25
    """
    x, n = as_float_array(successes, "successes"), as_float_array(trials, "trials")
    if x.size != n.size:
        raise ValueError(f"successes and trials must have the same length, got {x.size} and {n.size}")
    ok = np.isfinite(x) & np.isfinite(n) & (n > 0)
    x, n = x[ok], n[ok]
    if x.size < 2:
        return math.nan
    p = x.sum() / n.sum()
    if not 0 < p < 1:
        return math.nan
    return float(np.sum((x - n * p) ** 2 / (n * p * (1 - p))) / (x.size - 1))


def fdr_condition(pvalues: Sequence[ArrayLike], q: float) -> list[FloatArray]:
    """Benjamini–Hochberg over every finite p-value of several series at once.

    Returns, per input series, 1.0 where the test is rejected at FDR ``q``, 0.0 where not and NaN
    where the p-value is NaN (untested). Under the global null BH bounds the probability of any
    rejection by ``q``.

    >>> [c.tolist() for c in fdr_condition([[0.001, 0.5], [float("nan"), 0.02]], 0.05)]
    [[1.0, 0.0], [nan, 1.0]]
    """
    if not 0 < q < 1:
        raise ValueError(f"q must be in (0, 1), got {q!r}")
    arrays = [as_float_array(p, "pvalues") for p in pvalues]
    flat = np.concatenate(arrays) if arrays else np.empty(0)
    ok = np.isfinite(flat)
    reject = np.zeros(flat.size, dtype=bool)
    if ok.any():
        reject[ok] = multipletests(np.clip(flat[ok], 0.0, 1.0), alpha=q, method="fdr_bh")[0]
    cond = np.where(ok, reject.astype(np.float64), np.nan)
    out, start = [], 0
    for a in arrays:
        out.append(cond[start : start + a.size])
        start += a.size
    return out


def drop_condition(
    values: ArrayLike,
    drop: float,
    *,
    halflife: float = 7.0,
    se: ArrayLike | None = None,
    min_z: float = 2.0,
) -> FloatArray:
    """1.0 where a value is more than ``drop`` below the EWMA of the buckets before it.

    With ``se`` (the standard error of each bucket's value) the drop must also exceed ``min_z``
    standard errors. The accuracy rule uses :func:`adaptive_test` with the observed dispersion
    instead; this is the plain effect-size part of it.
    """
    v = as_float_array(values, "values")
    if drop < 0:
        raise ValueError(f"drop must be >= 0, got {drop!r}")
    gap = ewma_baseline(v, halflife) - v
    with np.errstate(invalid="ignore"):
        hit = gap > drop
        if se is not None:
            s = as_float_array(se, "se")
            if s.size != v.size:
                raise ValueError(f"se must have {v.size} values, got {s.size}")
            hit &= ~(gap <= min_z * s)
    return np.where(np.isnan(gap), np.nan, hit.astype(np.float64))


Describe = Callable[[State, float], str]


def alerts_from_condition(
    rule: str,
    condition: ArrayLike,
    *,
    describe: Describe,
    severity: Severity = "warning",
    values: ArrayLike | None = None,
    attributes: Mapping[str, str | float | int] | None = None,
    policy: Persistence | None = None,
    hold: ArrayLike | None = None,
) -> list[Alert]:
    """Alerts (firing + resolved) for a condition under ``policy`` (default :class:`Persistence`).

    ``describe(state, value)`` returns the message text; it is called once per transition and
    its result is used verbatim (callers concatenate, never re-format).
    """
    vals = as_float_array(values, "values") if values is not None else None
    out = []
    for t in (policy or Persistence()).episodes(condition, hold):
        value = float(vals[t.index]) if vals is not None else math.nan
        out.append(
            Alert(
                rule,
                severity if t.state == "firing" else "info",
                t.index,
                t.state,
                describe(t.state, value),
                dict(attributes or {}),
                value,
            )
        )
    return out


def num(value: float, digits: int = 3) -> str:
    """A number for an alert message (``nan`` spelled out), from our own format spec only."""
    return format(value, f".{digits}g") if math.isfinite(value) else "nan"


__all__ = [
    "DEFAULT_THRESHOLDS",
    "MAD_EFFICIENCY",
    "MAD_SCALE",
    "AdaptiveTest",
    "Alert",
    "Persistence",
    "Transition",
    "adaptive_test",
    "alerts_from_condition",
    "dispersion",
    "drop_condition",
    "episodes",
    "ewma_baseline",
    "fdr_condition",
    "gate",
    "num",
    "robust_z",
    "threshold_condition",
]
