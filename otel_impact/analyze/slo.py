"""SLOs: error budgets and multi-window, multi-burn-rate alerts (pure numpy).

Input: per time step (``step`` seconds, e.g. one minute) the number of good and of all events —
predictions faster than the latency threshold, predictions without error, successful pipeline
runs, or minutes in which the data was fresh. With objective ``o`` the error budget is
``1 − o``; the **burn rate** over a trailing window is its error ratio divided by the budget
(1 = spending exactly the budget over the SLO period).

An alert pair ``(long, short, factor)`` fires while the burn rate exceeds ``factor`` over
*both* the long and the short window, and resolves as soon as one of them drops below (Google
SRE workbook, "Alerting on SLOs", multiwindow multi-burn-rate alerts: 1 h/5 m at 14.4×,
6 h/30 m at 6×, 1 d/2 h at 3×, 3 d/6 h at 1×). The short window makes the alert reset quickly
once the burn stops; the long one keeps brief spikes from paging.

>>> good = np.r_[np.full(120, 999.0), np.zeros(10)]    # one-minute steps, then a full outage
>>> total = np.full(130, 1000.0)
>>> res = evaluate_slo(good, total, step=60, objective=0.999, windows=[(3600, 300, 14.4, "critical")])
>>> [(a.state, a.index) for a in res.alerts]
[('firing', 120)]
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from otel_impact.analyze.alerts import Persistence

FloatArray = NDArray[np.float64]
BurnWindowSpec = tuple[float, float, float, str]  # long s, short s, factor, severity


def _series(values: ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if np.any(~np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be finite and non-negative")
    return arr


def trailing_sum(values: ArrayLike, steps: int) -> FloatArray:
    """Sum over the trailing ``steps`` elements ending at each index (fewer at the start).

    >>> trailing_sum([1, 2, 3, 4], 2).tolist()
    [1.0, 3.0, 5.0, 7.0]
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    arr = np.asarray(values, dtype=np.float64)
    csum = np.concatenate([[0.0], np.cumsum(arr)])
    idx = np.arange(1, arr.size + 1)
    out: FloatArray = csum[idx] - csum[np.maximum(idx - steps, 0)]
    return out


def burn_rate(
    good: ArrayLike,
    total: ArrayLike,
    *,
    step: float,
    window: float,
    objective: float,
    first_known: int | None = None,
) -> FloatArray:
    """Burn rate over the trailing ``window`` seconds at each step (NaN without events).

    Steps before ``first_known`` are unknown (e.g. before a pipeline's first run in history): a
    window reaching back before it has no burn rate (NaN), so a long window is only judged once
    its whole span has data.
    """
    _check_objective(objective)
    if step <= 0 or window <= 0:
        raise ValueError("step and window must be positive")
    g, t = _series(good, "good"), _series(total, "total")
    if g.shape != t.shape:
        raise ValueError(f"good {g.shape} and total {t.shape} must have the same shape")
    if np.any(g > t * (1 + 1e-9) + 1e-9):
        raise ValueError("good must not exceed total")
    k = max(1, round(window / step))
    tw, gw = trailing_sum(t, k), trailing_sum(g, k)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(tw > 0, np.clip(tw - gw, 0, None) / np.where(tw > 0, tw, 1.0), np.nan)
    if first_known is not None:
        ratio[: min(max(first_known + k - 1, 0), ratio.size)] = np.nan
    return ratio / (1.0 - objective)


def _check_objective(objective: float) -> None:
    if not (isinstance(objective, int | float) and 0 < objective < 1):
        raise ValueError(f"objective must be in (0, 1), got {objective!r}")


@dataclass(frozen=True)
class BurnAlert:
    """A transition of one burn-rate alert pair at step ``index`` (relative to ``eval_start``)."""

    index: int
    state: str  # firing | resolved
    severity: str
    long_s: float
    short_s: float
    factor: float
    burn_long: float
    burn_short: float


@dataclass(frozen=True)
class SloEpisode:
    """A transition of the SLO's one alert: firing while any burn pair fires (its most severe
    pair named), resolved when none does."""

    index: int
    state: str  # firing | resolved
    severity: str
    long_s: float
    short_s: float
    factor: float
    burn_long: float
    burn_short: float


@dataclass(frozen=True)
class WindowBurn:
    """Burn rates of one pair at the last step, their maxima over the evaluated steps."""

    long_s: float
    short_s: float
    factor: float
    severity: str
    burn_long: float
    burn_short: float
    max_burn_long: float
    firing: bool


@dataclass(frozen=True)
class SloResult:
    """SLI over the evaluated steps, error budget use, burn rates and alert transitions.

    ``estimate`` is the SLI (good / total); ``budget_consumed`` is the share of the period's error
    budget spent in the evaluated span (its traffic extrapolated to the period); ``n`` the events.
    """

    estimate: float
    objective: float
    error_ratio: float
    budget_consumed: float
    budget_remaining: float
    n: float
    windows: tuple[WindowBurn, ...]
    alerts: tuple[BurnAlert, ...]
    episodes: tuple[SloEpisode, ...] = ()
    method: str = "multiwindow_burn_rate"


def evaluate_slo(
    good: ArrayLike,
    total: ArrayLike,
    *,
    step: float,
    objective: float,
    windows: Sequence[BurnWindowSpec],
    eval_start: int = 0,
    period: float | None = None,
    first_known: int | None = None,
    persistence: tuple[int, int, int] = (1, 1, 1),
) -> SloResult:
    """SLO result over steps ``eval_start..`` (earlier steps only feed the trailing windows).

    ``period`` (seconds, default the evaluated span) is the SLO period the budget refers to.
    Steps before ``first_known`` are unknown: they count neither as good nor as bad, and a burn
    window reaching back before them is not judged. ``persistence`` is the alert policy
    ``(trigger, within, clear)`` of :class:`~otel_impact.analyze.alerts.Persistence` applied to each
    pair and to the SLO's combined episode. Without events the SLI and budget fields are NaN and
    a warning is issued.
    """
    _check_objective(objective)
    g, t = _series(good, "good"), _series(total, "total")
    if not 0 <= eval_start <= t.size:
        raise ValueError(f"eval_start must be in [0, {t.size}], got {eval_start}")
    if first_known is not None and first_known < 0:
        raise ValueError(f"first_known must be >= 0, got {first_known}")
    policy = Persistence(*persistence)
    g, t = g.copy(), t.copy()
    if first_known is not None:
        g[: min(first_known, g.size)] = 0.0
        t[: min(first_known, t.size)] = 0.0
    span = (t.size - eval_start) * step
    period = span if period is None else period
    if period <= 0:
        raise ValueError(f"period must be positive, got {period}")
    tot, ok = float(t[eval_start:].sum()), float(g[eval_start:].sum())
    budget = 1.0 - objective
    if tot > 0:
        sli = ok / tot
        ratio = max(0.0, 1.0 - sli)
        consumed = ratio / budget * min(span, period) / period
    else:
        warnings.warn("SLO: no events in the evaluated span", RuntimeWarning, stacklevel=2)
        sli = ratio = consumed = math.nan
    burns, alerts = [], []
    rank = {"critical": 2, "warning": 1}
    n_eval = t.size - eval_start
    any_cond = np.full(n_eval, np.nan)
    worst = np.full(n_eval, -1, dtype=np.int64)  # index into `windows` of the most severe firing pair
    pair_burns: list[tuple[FloatArray, FloatArray]] = []
    for w_i, (long_s, short_s, factor, severity) in enumerate(windows):
        if not 0 < short_s < long_s or factor <= 0:
            raise ValueError(
                f"burn window needs 0 < short < long and factor > 0, got {(long_s, short_s, factor)}"
            )
        bl = burn_rate(g, t, step=step, window=long_s, objective=objective, first_known=first_known)[
            eval_start:
        ]
        bs = burn_rate(g, t, step=step, window=short_s, objective=objective, first_known=first_known)[
            eval_start:
        ]
        pair_burns.append((bl, bs))
        known = np.isfinite(bl) & np.isfinite(bs)
        cond = known & (np.nan_to_num(bl, nan=0.0) > factor) & (np.nan_to_num(bs, nan=0.0) > factor)
        cond_k = np.where(known, cond.astype(np.float64), np.nan)
        any_cond = np.where(np.isnan(any_cond), cond_k, np.fmax(any_cond, cond_k))
        better = cond & (
            (worst < 0) | (rank.get(severity, 0) > np.array([rank.get(windows[int(j)][3], 0) for j in worst]))
        )
        worst = np.where(better, w_i, worst)
        transitions = policy.episodes(cond_k) if cond.any() else []
        for tr in transitions:
            alerts.append(
                BurnAlert(
                    tr.index,
                    tr.state,
                    severity,
                    long_s,
                    short_s,
                    factor,
                    float(bl[tr.index]),
                    float(bs[tr.index]),
                )
            )
        finite = bl[np.isfinite(bl)]
        burns.append(
            WindowBurn(
                long_s,
                short_s,
                factor,
                severity,
                float(bl[-1]) if bl.size else math.nan,
                float(bs[-1]) if bs.size else math.nan,
                float(finite.max()) if finite.size else math.nan,
                bool(cond[-1]) if cond.size else False,
            )
        )
    alerts.sort(key=lambda a: (a.index, a.long_s))
    combined = []
    fired = -1
    for tr in policy.episodes(any_cond) if windows else []:
        j = int(worst[tr.index]) if tr.state == "firing" else fired
        fired = j
        long_s, short_s, factor, severity = windows[j]
        bl, bs = pair_burns[j]
        combined.append(
            SloEpisode(
                tr.index, tr.state, severity if tr.state == "firing" else "info", long_s, short_s, factor,
                float(bl[tr.index]), float(bs[tr.index]),
            )
        )  # fmt: skip
    return SloResult(
        sli, objective, ratio, consumed, 1.0 - consumed, tot, tuple(burns), tuple(alerts), tuple(combined)
    )


def freshness_steps(success_times: ArrayLike, step_ends: ArrayLike, max_age: float) -> FloatArray:
    """1.0 for each step whose end is at most ``max_age`` seconds after the latest successful
    run at or before it, else 0.0 (the "good minutes" of a freshness SLO).

    >>> freshness_steps([0.0, 100.0], [50.0, 150.0, 260.0], 120.0).tolist()
    [1.0, 1.0, 0.0]
    """
    if max_age <= 0:
        raise ValueError(f"max_age must be positive, got {max_age}")
    runs = np.sort(np.asarray(success_times, dtype=np.float64))
    ends = np.asarray(step_ends, dtype=np.float64)
    idx = np.searchsorted(runs, ends, side="right") - 1
    last = np.where(idx >= 0, runs[np.maximum(idx, 0)] if runs.size else np.nan, np.nan)
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(last) & (ends - last <= max_age), 1.0, 0.0)


__all__ = [
    "BurnAlert",
    "BurnWindowSpec",
    "SloEpisode",
    "SloResult",
    "WindowBurn",
    "burn_rate",
    "evaluate_slo",
    "freshness_steps",
    "trailing_sum",
]
