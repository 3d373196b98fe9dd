"""Alert rules: fixed thresholds, adaptive baselines, and de-duplication with hysteresis.

A rule turns a per-bucket series into a per-bucket boolean *condition*; :func:`episodes` turns
the condition into state transitions so a persisting condition alerts **once** (``firing``) and
its end is reported once (``resolved``):

* it fires after ``trigger_after`` consecutive true buckets,
* it resolves after ``clear_after`` consecutive false buckets (hysteresis: one good bucket in a
  bad stretch does not resolve and re-fire),
* unknown buckets (NaN) neither trigger nor clear,
* with a ``hold`` condition (looser than the trigger), a firing alert stays firing while it holds.

Threshold defaults (:data:`DEFAULT_THRESHOLDS`) follow the usual production-ML guidance: accuracy
drop > 2 percentage points below its EWMA baseline, latency p95 > 200 ms, drift score > 0.7,
business impact (relative lift) < 0.5 %.

Adaptive baselines use a **robust z-score around an EWMA**: the baseline at bucket ``t`` is the
EWMA of the buckets before ``t`` (``halflife`` buckets; with ``season`` set, of the same phase
only: ``t − season, t − 2·season …``), the scale is ``1.4826 · MAD`` of the last ``window``
residuals before ``t``, and ``z_t = (v_t − baseline_t) / scale_t``. ``|z| > threshold`` is the
condition. A bucket without ``min_history`` earlier residuals has NaN z (unknown).

>>> [(t.index, t.state) for t in episodes([False, True, True, False, True, False, False])]
[(1, 'firing'), (6, 'resolved')]
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from otel_impact.analyze.results import FloatArray, as_float_array

State = Literal["firing", "resolved"]
Op = Literal[">", ">=", "<", "<="]
Severity = Literal["info", "warning", "critical"]

DEFAULT_THRESHOLDS: Mapping[str, float] = {
    "accuracy_drop": 0.02,  # absolute drop below the EWMA baseline (2 percentage points)
    "latency_p95_ms": 200.0,
    "drift_score": 0.7,
    "business_impact": 0.005,  # relative lift below 0.5 %
}
MAD_SCALE = 1.482602218505602  # 1 / Φ⁻¹(3/4): MAD → σ for normal data


@dataclass(frozen=True)
class Transition:
    """A change of alert state at bucket ``index``."""

    index: int
    state: State


@dataclass(frozen=True)
class Alert:
    """One alert transition, ready for the JSON ``alerts`` list (the stage turns ``index`` into ``at``)."""

    rule: str
    severity: Severity
    index: int
    state: State
    message: str
    attributes: Mapping[str, str | float | int] = field(default_factory=dict)


def _condition_array(condition: ArrayLike) -> FloatArray:
    arr = np.asarray(condition, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"condition must be one-dimensional, got shape {arr.shape}")
    return arr


def episodes(
    condition: ArrayLike,
    *,
    trigger_after: int = 1,
    clear_after: int = 2,
    hold: ArrayLike | None = None,
) -> list[Transition]:
    """De-duplicate a per-bucket condition into ``firing`` / ``resolved`` transitions (see module doc).

    ``hold`` (optional, same length) is a looser condition that keeps a firing alert firing: once
    fired, a bucket only counts towards clearing when ``hold`` is false there too.
    """
    if trigger_after < 1:
        raise ValueError(f"trigger_after must be >= 1, got {trigger_after}")
    if clear_after < 1:
        raise ValueError(f"clear_after must be >= 1, got {clear_after}")
    cond = _condition_array(condition)
    keep = cond if hold is None else _condition_array(hold)
    if keep.size != cond.size:
        raise ValueError(f"hold must have {cond.size} values, got {keep.size}")
    out: list[Transition] = []
    firing = False
    run_true = run_false = 0
    for i, c in enumerate(cond):
        if math.isnan(c):
            continue
        if c:
            run_true, run_false = run_true + 1, 0
            if not firing and run_true >= trigger_after:
                firing = True
                out.append(Transition(i, "firing"))
        else:
            run_true = 0
            if firing and keep[i] == 1.0:
                run_false = 0
                continue
            run_false += 1
            if firing and run_false >= clear_after:
                firing = False
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


def robust_z(
    values: ArrayLike,
    *,
    halflife: float = 7.0,
    window: int = 28,
    min_history: int = 7,
    season: int | None = None,
) -> FloatArray:
    """Robust z-score of each bucket against its EWMA baseline (see module doc)."""
    v = as_float_array(values, "values")
    if window < 2:
        raise ValueError(f"window must be >= 2, got {window}")
    if min_history < 2:
        raise ValueError(f"min_history must be >= 2, got {min_history}")
    base = ewma_baseline(v, halflife, season)
    resid = v - base
    z = np.full(v.size, np.nan)
    for i in range(v.size):
        past = resid[max(0, i - window) : i]
        past = past[np.isfinite(past)]
        if past.size < min_history or not math.isfinite(resid[i]):
            continue
        scale = MAD_SCALE * float(np.median(np.abs(past - np.median(past))))
        if scale <= 0:
            scale = float(np.std(past))
        if scale > 0:
            z[i] = resid[i] / scale
    return z


def drop_condition(
    values: ArrayLike,
    drop: float,
    *,
    halflife: float = 7.0,
    se: ArrayLike | None = None,
    min_z: float = 2.0,
) -> FloatArray:
    """1.0 where a value is more than ``drop`` below the EWMA of the buckets before it.

    With ``se`` (the standard error of each bucket's value, e.g. ``√(p(1 − p)/n)`` for an
    accuracy) the drop must also exceed ``min_z`` standard errors, so a thin bucket's sampling
    noise does not alert.
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


def alerts_from_condition(
    rule: str,
    condition: ArrayLike,
    *,
    severity: Severity = "warning",
    message: str,
    values: ArrayLike | None = None,
    attributes: Mapping[str, str | float | int] | None = None,
    trigger_after: int = 1,
    clear_after: int = 2,
) -> list[Alert]:
    """Alerts (firing + resolved) for a condition; ``message`` may use ``{value}`` and ``{state}``."""
    vals = as_float_array(values, "values") if values is not None else None
    out = []
    for t in episodes(condition, trigger_after=trigger_after, clear_after=clear_after):
        value = float(vals[t.index]) if vals is not None else math.nan
        out.append(
            Alert(
                rule,
                severity if t.state == "firing" else "info",
                t.index,
                t.state,
                message.format(value=value, state=t.state),
                dict(attributes or {}),
            )
        )
    return out


__all__ = [
    "DEFAULT_THRESHOLDS",
    "MAD_SCALE",
    "Alert",
    "Transition",
    "alerts_from_condition",
    "drop_condition",
    "episodes",
    "ewma_baseline",
    "robust_z",
    "threshold_condition",
]
