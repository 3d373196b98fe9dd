"""Breakdown alerting: has a model↔business relationship that held stopped holding?

At every bucket ``t`` (once enough history exists) the correlation of the **recent** window (the
last ``window`` aligned pairs ending at ``t``) is compared with the **baseline** (all pairs
before the recent window, at least ``min_baseline`` and at most the last ``baseline`` of them) by
the difference of Fisher-z values:

``d = atanh(r_recent) − atanh(r_base)``, ``se = √(1/(n_r − 3) + 1/(n_b − 3))``, two-sided
normal p-value. ``n_r``/``n_b`` are effective sizes: the window length times the Bretherton factor
``(1 − r1x r1y)/(1 + r1x r1y)`` computed once from the whole series (a window of a few buckets is
too short for its own ACF). The pairs are aligned at ``lag`` (``model[t]`` with ``business[t+lag]``),
and indices refer to business buckets.

A bucket's condition is true when any of these holds:

* ``weakening`` — ``p < alpha`` and ``|r_recent| < |r_base|``;
* ``sign_flip`` — ``p < alpha`` and the sign changed;
* ``divergence`` — over the recent window the model metric trends up while the business metric
  trends down (or the reverse, when the baseline relationship is positive), both trend slopes
  significant at ``alpha`` (OLS t-test against time).

Because a cron run tests many overlapping windows, ``alpha`` is small (default 0.002);
:func:`~otel_impact.analyze.alerts.episodes` then reports one alert per episode, which stays
firing while the weakening is still significant at the looser ``hold_alpha`` (default 0.05).

>>> import numpy as np
>>> rng = np.random.default_rng(1)
>>> x = rng.normal(size=90)
>>> y = np.where(np.arange(90) < 60, 0.9, -0.9) * x + 0.44 * rng.normal(size=90)
>>> [(t.index >= 60, t.state) for t in detect_breakdown(x, y).transitions][:1]
[(True, 'firing')]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike
from scipy import stats

from otel_impact.analyze.alerts import Transition, episodes
from otel_impact.analyze.correlation import acf
from otel_impact.analyze.results import FloatArray, as_float_array, check_alpha, warn_degenerate

_CLIP = 0.999999


@dataclass(frozen=True)
class Breakdown:
    """Per-bucket rolling comparison (index = business bucket) and the resulting transitions.

    Arrays have the length of the business series; buckets without enough history are NaN.
    ``kind`` names the first condition that held at each bucket ('' when none).
    """

    r_recent: FloatArray
    r_base: FloatArray
    pvalue: FloatArray
    condition: FloatArray
    kind: tuple[str, ...]
    transitions: tuple[Transition, ...]
    lag: int
    window: int
    baseline: int
    method: str = "fisher-z-difference"


def _rolling_r(x: FloatArray, y: FloatArray, w: int) -> FloatArray:
    """Pearson r of every length-``w`` window (index j → window [j, j + w − 1])."""
    xs, ys = sliding_window_view(x, w), sliding_window_view(y, w)
    xd = xs - xs.mean(axis=1, keepdims=True)
    yd = ys - ys.mean(axis=1, keepdims=True)
    den = np.sqrt((xd * xd).sum(axis=1) * (yd * yd).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (xd * yd).sum(axis=1) / den
    return np.where(den > 0, r, np.nan)


def _span_r(x: FloatArray, y: FloatArray, starts: np.ndarray, stops: np.ndarray) -> FloatArray:
    """Pearson r of ``x[a:b], y[a:b]`` for every (a, b) pair, from cumulative sums."""
    xc, yc = x - x.mean(), y - y.mean()

    def cum(v: FloatArray) -> FloatArray:
        return np.concatenate([[0.0], np.cumsum(v)])

    sx, sy, sxx, syy, sxy = cum(xc), cum(yc), cum(xc * xc), cum(yc * yc), cum(xc * yc)
    n = (stops - starts).astype(np.float64)

    def part(c: FloatArray) -> FloatArray:
        return c[stops] - c[starts]

    mx, my = part(sx) / n, part(sy) / n
    vxx = part(sxx) - n * mx * mx
    vyy = part(syy) - n * my * my
    vxy = part(sxy) - n * mx * my
    den = np.sqrt(np.clip(vxx, 0, None) * np.clip(vyy, 0, None))
    ok = den > 1e-12 * (np.abs(part(sxx)) + np.abs(part(syy)) + 1e-300)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, np.clip(vxy / den, -1.0, 1.0), np.nan)


def _trend_t(v: FloatArray, w: int) -> FloatArray:
    """t-statistic of the OLS slope against time in every length-``w`` window."""
    vs = sliding_window_view(v, w)
    t = np.arange(w, dtype=np.float64) - (w - 1) / 2
    stt = float(t @ t)
    slope = (vs - vs.mean(axis=1, keepdims=True)) @ t / stt
    resid = vs - vs.mean(axis=1, keepdims=True) - slope[:, None] * t[None, :]
    s2 = (resid * resid).sum(axis=1) / max(w - 2, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        tt = slope / np.sqrt(s2 / stt)
    return np.where(s2 > 0, tt, np.nan)


def detect_breakdown(
    model: ArrayLike,
    business: ArrayLike,
    *,
    lag: int = 0,
    window: int = 6,
    baseline: int = 30,
    min_baseline: int = 10,
    alpha: float = 0.002,
    hold_alpha: float = 0.05,
    trigger_after: int = 1,
    clear_after: int = 3,
) -> Breakdown:
    """Rolling correlation vs its historical baseline, sign flips and divergence (see module doc).

    NaN buckets are not supported inside the compared windows (those comparisons are skipped).
    """
    x, y = as_float_array(model, "model"), as_float_array(business, "business")
    if x.size != y.size:
        raise ValueError(f"model and business must have the same length, got {x.size} and {y.size}")
    if lag < 0:
        raise ValueError(f"lag must be >= 0, got {lag}")
    if window < 4:
        raise ValueError(f"window must be >= 4, got {window}")
    if not 4 <= min_baseline <= baseline:
        raise ValueError(f"min_baseline must be in [4, baseline={baseline}], got {min_baseline}")
    alpha = check_alpha(alpha)
    hold_alpha = max(check_alpha(hold_alpha, "hold_alpha"), alpha)
    n_out = y.size
    xa, ya = (x[: x.size - lag], y[lag:]) if lag else (x, y)
    m = xa.size
    nan = np.full(n_out, np.nan)
    if m < window + min_baseline:
        warn_degenerate(f"breakdown needs {window + min_baseline} aligned buckets, got {m}")
        return Breakdown(nan, nan.copy(), nan.copy(), nan.copy(), ("",) * n_out, (), lag, window, baseline)
    ok = np.isfinite(xa) & np.isfinite(ya)
    rho = acf(xa[ok], 1)[1] * acf(ya[ok], 1)[1] if ok.sum() > 3 else math.nan
    factor = (1 - rho) / (1 + rho) if math.isfinite(rho) else 1.0
    factor = min(max(factor, 0.05), 1.0)

    rr = _rolling_r(xa, ya, window)  # j → [j, j+window-1]
    tx, ty = _trend_t(xa, window), _trend_t(ya, window)
    ends = np.arange(window + min_baseline - 1, m)  # aligned index of the recent window's last pair
    b_stop = ends - window + 1  # the baseline ends where the recent window starts
    b_start = np.maximum(b_stop - baseline, 0)  # expanding until it holds `baseline` pairs
    r1 = rr[ends - window + 1]
    r0 = _span_r(xa, ya, b_start, b_stop)
    nb = (b_stop - b_start) * factor
    se = np.sqrt(1 / max(window * factor - 3, 0.5) + 1 / np.maximum(nb - 3, 0.5))
    d = np.arctanh(np.clip(r1, -_CLIP, _CLIP)) - np.arctanh(np.clip(r0, -_CLIP, _CLIP))
    p = 2 * stats.norm.sf(np.abs(d) / se)
    tcrit = float(stats.t.isf(alpha / 2, window - 2))
    sig = p < alpha
    weakening = sig & (np.abs(r1) < np.abs(r0))
    flip = sig & (np.sign(r1) != np.sign(r0))
    txe, tye = tx[ends - window + 1], ty[ends - window + 1]
    expected = np.where(r0 < 0, -1.0, 1.0)
    divergence = (np.abs(txe) > tcrit) & (np.abs(tye) > tcrit) & (np.sign(txe) * np.sign(tye) == -expected)
    known = np.isfinite(r1) & np.isfinite(r0)
    cond = np.where(known, (weakening | flip | divergence).astype(np.float64), np.nan)
    loose = (p < hold_alpha) & ((np.abs(r1) < np.abs(r0)) | (np.sign(r1) != np.sign(r0)))
    held = np.where(known, (loose | divergence).astype(np.float64), np.nan)

    out_idx = ends + lag
    r_recent, r_base, pv, condition = nan.copy(), nan.copy(), nan.copy(), nan.copy()
    r_recent[out_idx], r_base[out_idx], pv[out_idx], condition[out_idx] = r1, r0, p, cond
    hold = np.full(n_out, np.nan)
    hold[out_idx] = held
    kinds = [""] * n_out
    for j, i in enumerate(out_idx):
        if flip[j]:
            kinds[i] = "sign_flip"
        elif weakening[j]:
            kinds[i] = "weakening"
        elif divergence[j]:
            kinds[i] = "divergence"
    trans = episodes(condition, trigger_after=trigger_after, clear_after=clear_after, hold=hold)
    return Breakdown(r_recent, r_base, pv, condition, tuple(kinds), tuple(trans), lag, window, baseline)


__all__ = ["Breakdown", "detect_breakdown"]
