"""Anomalies in a model-metric series: level shifts (change points) and point anomalies.

A model metric per time bucket (AUC, accuracy, mean score …) is modelled as

    x_t = μ_seg(t) + s_phase(t) + e_t

a piecewise level ``μ`` — constant, or a straight line where a segment trends —, an optional
periodic profile ``s`` (weekly for daily buckets) and stationary, possibly autocorrelated noise
``e``. Two kinds of departures are reported:

1. **Level shifts** (``method="changepoint"``). Change points come from an exact PELT (Killick,
   Fearnhead & Eckley 2012) whose segment cost is the smaller of the squared error about the
   segment mean and the squared error about the segment's least-squares line plus a slope
   penalty ``c_s · ln n · σ²_LR``, so a steady trend is one segment instead of a staircase of
   small steps (``slope_factor=None``: constant levels only, the L2 cost of ``ruptures``,
   Truong, Oudre & Vayatis 2020). The penalty per change point is ``β · σ²_LR`` with
   ``β = c · ln n`` (a BIC-type constant) and ``σ²_LR`` the noise's **long-run variance**: the
   variance of a segment mean of length ``m`` is ``σ²_LR / m``, not ``σ² / m``, when the noise is
   autocorrelated, so scaling the penalty by ``σ²_LR`` keeps the false-split rate of AR noise
   at the iid level. Where two trend segments meet, the boundary is kept as a change point only
   if the two lines need a jump there: a likelihood-ratio test of the two separate lines against
   the best continuous broken line (hinge searched), ``χ²₁`` at ``α`` over the boundaries tested,
   with ``σ²_LR`` as the scale; otherwise it is the bend of a curve (a growth that slows), and the
   fit keeps the two lines but no change point is reported there. Segments after the first are
   compared with the first one (the earliest regime is "normal"): a segment whose mean differs
   by more than ``z_{α / (2 s)}`` standard errors ``σ_LR · sqrt(1/m₀ + 1/m)`` (``s`` segments
   tested) is anomalous; adjacent anomalous segments in the same direction are merged (a
   gradual degradation is one anomaly).
2. **Point anomalies** (``method="robust_z"``) among the points not inside a level shift:
   ``z_t = (y_t − b_t) / (σ · sqrt(1 + π / (2 k)))`` with ``b_t`` the median of the previous
   ``window`` points (``k`` of them; π/2k is the variance of a sample median) and ``σ`` the
   marginal noise scale. Flagged when ``|z_t| > z_{α / (2 n)}``.

**Long-run variance.** The noise is approximated by an AR(1) process, whose long-run variance
is ``σ²_LR = σ² (1 + φ) / (1 − φ)`` (Andrews 1991, the AR(1) plug-in). ``φ`` and ``σ`` are
estimated twice, and the larger ``σ²_LR`` is used (conservative: an underestimate means false
change points):

* from first differences, which a level shift touches only once: for AR(1),
  ``corr(Δx_t, Δx_{t+1}) = −(1 − φ) / 2``; the differences across the first pass's change
  points are left out and the rest winsorised at 3.5 robust standard deviations, so a shift
  or a spike does not pass for autocorrelation;
* from the residuals of a first, deliberately liberal segmentation (iid penalty; one degree of
  freedom more for each line), with the
  lag-1 autocorrelation corrected for its small-sample bias ``−(1 + 3φ) / n``
  (Kendall 1954; Marriott & Pope 1954).

``φ`` is clipped to ``[0, 0.95]`` (negative autocorrelation would shrink the penalty below
the iid one; near 1 the difference-based σ² = Var(Δx) / (2 (1 − φ)) is unstable and would mask
real shifts) and then raised to its one-sided 95 % upper confidence limit
``φ̂ + 1.645 · sqrt((1 − φ̂²) / n)`` (Bartlett 1946): on 60 points φ̂ is uncertain by about
±0.1, and it is the underestimates that turn autocorrelated noise into change points.

**Seasonal profile**, robust to level shifts: the series minus its centred moving median over
one period (which follows a level shift with at most half a period of lag and carries no
seasonal swing) is grouped by phase; the per-phase median, centred to mean zero, is the
profile. It is removed only with at least ``min_cycles`` full periods and when a Kruskal–Wallis
test across phases says the phases differ (p < 0.01), so iid noise is not "deseasonalised".

**Baseline.** Each anomaly carries ``baseline``: for a level shift the mean level of the
reference (first) segment, deseasonalised — the level before the change, not a level plus a
seasonal artefact; for a point anomaly the expected value at that point (trailing median plus
that phase's seasonal offset).

Null-data calibration of the defaults (``alpha = 0.01``, ``c = 4``, ``min_size = 3``) is in
``docs/detection.md`` and pinned by ``tests/analyze/test_anomaly.py``; the slope constant
``c_s = 8`` and why it is not ``c`` are discussed there too ("Trend").

Indices are positions in the input array; the stage maps them to bucket timestamps. NaN points
(empty buckets) are skipped. Fewer than ``min_points`` finite points, or a constant series,
gives no anomalies, NaN ``sigma`` and a warning.

>>> import numpy as np
>>> x = np.r_[np.full(12, 0.80), np.full(10, 0.70)] + np.random.default_rng(1).normal(0, 0.01, 22)
>>> [(a.start, a.direction, a.method, round(a.baseline, 2)) for a in detect_anomalies(x).anomalies]
[(12, 'down', 'changepoint', 0.8)]
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import ruptures as rpt
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import ArrayLike
from scipy import special, stats

from otel_impact.analyze.results import FloatArray, as_float_array, check_alpha, warn_degenerate

_MAD_TO_SIGMA = 0.6744897501960817  # Φ^{-1}(0.75)
_WINSOR = 3.5  # differences / residuals are winsorised at 3.5 robust σ
_PHI_MAX = 0.95
PHI_SE = 1.645  # φ is raised to its one-sided 95 % upper confidence limit
_STEP = 4.0  # a first-pass jump this many robust σ is a step, kept out of the difference-based φ
_SEASON_ALPHA = 0.01  # Kruskal–Wallis level for "the phases differ"
PENALTY_FACTOR = 4.0  # c in β = c · ln n (calibrated on null data, docs/detection.md)
SLOPE_FACTOR = 8.0  # a segment's slope costs SLOPE_FACTOR · ln n · σ²_LR (docs/detection.md)


@dataclass(frozen=True)
class Anomaly:
    """A run of anomalous points ``[start, end)`` (indices into the input series)."""

    start: int
    end: int  # exclusive
    estimate: float  # magnitude: mean of the span minus the baseline (signed)
    direction: str  # "up" | "down"
    score: float  # standardised shift (z)
    pvalue: float  # nominal two-sided p-value of the shift (before multiplicity correction)
    n: int  # points in the span
    method: str  # "changepoint" | "robust_z"
    baseline: float = math.nan  # the level departed from (see the module docstring)


@dataclass(frozen=True)
class LongRunVariance:
    """AR(1) summary of the noise: marginal ``sigma``, ``phi`` and the long-run variance."""

    sigma: float
    phi: float  # the upper estimate used (φ̂ + 1.645 standard errors, clipped)
    estimate: float  # σ² (1 + φ) / (1 − φ)
    n: int
    method: str


@dataclass(frozen=True)
class Detection:
    """All anomalies found in one series, with what was used to find them."""

    anomalies: tuple[Anomaly, ...]
    changepoints: tuple[int, ...]  # indices where a new segment starts (bends left out)
    baseline: FloatArray = field(repr=False)  # expected value per input point (NaN if none)
    sigma: float
    n: int  # finite points used
    seasonal: bool  # whether a seasonal profile was removed
    method: str = "pelt+robust_z"
    phi: float = math.nan  # AR(1) coefficient of the noise used for the penalty
    long_run_sigma: float = math.nan  # σ_LR


def robust_sigma(values: ArrayLike) -> float:
    """Noise scale robust to level shifts: MAD of first differences / (0.6745·√2).

    Falls back to the standard deviation of the differences when more than half of them are
    zero (a step in an otherwise constant series); NaN with fewer than 3 finite points.
    """
    x = as_float_array(values, "values")
    x = x[np.isfinite(x)]
    if x.size < 3:
        return math.nan
    d = np.diff(x)
    mad = float(np.median(np.abs(d - np.median(d))))
    sigma = mad / _MAD_TO_SIGMA / math.sqrt(2.0)
    if sigma == 0.0:
        sigma = float(np.std(d)) / math.sqrt(2.0)
    return sigma


def _ar1(sigma2: float, phi: float, n: int, method: str) -> LongRunVariance:
    """The AR(1) long-run variance with φ raised to its one-sided 95 % upper confidence limit
    (standard error ``sqrt((1 − φ²)/n)``, Bartlett 1946): an underestimated φ is what makes
    change points out of autocorrelated noise, so the penalty uses an upper estimate."""
    phi = min(max(phi, 0.0), _PHI_MAX) if math.isfinite(phi) else 0.0
    upper = min(phi + PHI_SE * math.sqrt((1.0 - phi * phi) / n), _PHI_MAX)
    return LongRunVariance(math.sqrt(sigma2), upper, sigma2 * (1.0 + upper) / (1.0 - upper), n, method)


def long_run_variance(values: ArrayLike, *, breaks: tuple[int, ...] = ()) -> LongRunVariance:
    """AR(1) long-run variance from winsorised first differences (robust to level shifts).

    For AR(1) noise ``corr(Δx_t, Δx_{t+1}) = −(1 − φ)/2`` and ``Var(Δx) = 2σ²(1 − φ)``, so
    ``φ = 1 + 2ρ₁(Δx)`` and ``σ² = Var(Δx) / (2 (1 − φ))``. The differences across ``breaks``
    (indices where a segment starts) are left out. NaN fields with fewer than 4 points.

    >>> rng = np.random.default_rng(0)
    >>> e = rng.normal(size=20000); x = np.empty_like(e); x[0] = e[0]
    >>> for t in range(1, x.size): x[t] = 0.5 * x[t - 1] + e[t]
    >>> round(long_run_variance(x).phi, 1)
    0.5
    """
    x = as_float_array(values, "values")
    x = x[np.isfinite(x)]
    if x.size < 4:
        return LongRunVariance(math.nan, math.nan, math.nan, int(x.size), "ar1-diff")
    d = np.diff(x)
    keep = np.ones(d.size, dtype=bool)
    for b in breaks:
        if 1 <= b <= d.size:
            keep[b - 1] = False  # d[b − 1] = x[b] − x[b − 1] crosses the break
    centre = float(np.median(d[keep]))
    scale = float(np.median(np.abs(d[keep] - centre))) / _MAD_TO_SIGMA
    if scale == 0.0:
        scale = float(np.std(d[keep]))
    if scale == 0.0:
        return LongRunVariance(0.0, 0.0, 0.0, int(x.size), "ar1-diff")
    w = np.clip(d - centre, -_WINSOR * scale, _WINSOR * scale)
    w = w - w[keep].mean()
    pair = keep[:-1] & keep[1:]
    ss = float(np.sum(w[keep] ** 2))
    var_d = ss / int(keep.sum())
    rho = float(np.sum((w[:-1] * w[1:])[pair]) / ss * keep.sum() / max(int(pair.sum()), 1))
    phi = min(max(1.0 + 2.0 * rho, 0.0), _PHI_MAX)
    return _ar1(var_d / (2.0 * (1.0 - phi)), phi, int(x.size), "ar1-diff")


def _residual_lrv(resid: FloatArray, segments: int, extra: int = 0) -> LongRunVariance:
    """AR(1) long-run variance of the residuals of a piecewise-constant fit (bias-corrected φ);
    ``extra`` more fitted parameters (seasonal phases) come off the degrees of freedom."""
    n = resid.size
    scale = float(np.median(np.abs(resid))) / _MAD_TO_SIGMA
    r = np.clip(resid, -_WINSOR * scale, _WINSOR * scale) if scale > 0 else resid
    ss = float(np.sum(r**2))
    dof = max(n - segments - extra, 1)
    if ss == 0.0:
        return LongRunVariance(0.0, 0.0, 0.0, n, "ar1-resid")
    rho = float(np.sum(r[:-1] * r[1:]) / ss)
    # E[ρ̂] ≈ φ − (1 + 3φ)/n for an AR(1) with an estimated mean (Kendall 1954); segment means
    # cost the same per segment, so n is taken per segment
    m = n / segments
    phi = (rho + 1.0 / m) / (1.0 - 3.0 / m) if m > 3 else rho
    return _ar1(ss / dof, phi, n, "ar1-resid")


def seasonal_profile(values: ArrayLike, period: int | None, *, min_cycles: int = 3) -> FloatArray:
    """Per-point seasonal component (zeros when none is estimated), robust to level shifts.

    Estimated when ``period ≥ 2``, at least ``min_cycles`` full periods are present and the
    phases differ (Kruskal–Wallis p < 0.01) once the series' centred moving median over one
    period is removed; the per-phase median of that detrended series, centred to mean zero.
    """
    x = as_float_array(values, "values")
    out = np.zeros_like(x)
    if period is None or period < 2 or x.size < min_cycles * period:
        return out
    w = period if period % 2 else period + 1
    half = w // 2
    padded = np.r_[np.full(half, np.nan), x, np.full(half, np.nan)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows give NaN
        trend = np.nanmedian(sliding_window_view(padded, w), axis=1)
    detr = x - trend
    phase = np.arange(x.size) % period
    groups = [detr[(phase == p) & np.isfinite(detr)] for p in range(period)]
    if any(g.size < 2 for g in groups):
        return out
    try:
        kw = stats.kruskal(*groups)
    except ValueError:  # all values identical
        return out
    if not (kw.pvalue < _SEASON_ALPHA):
        return out
    prof = np.array([float(np.median(g)) for g in groups])
    prof -= prof.mean()
    return prof[phase]


def adaptive_baseline(values: ArrayLike, *, window: int = 14) -> tuple[FloatArray, FloatArray]:
    """Trailing robust baseline ``b_t`` and the number of history points ``k_t`` behind it.

    ``b_t`` is the median of the previous ``window`` finite points (NaN when there are none),
    so it adapts to slow level changes without being dragged by a single outlier.
    """
    x = as_float_array(values, "values")
    if window < 1:
        raise ValueError(f"window must be ≥ 1, got {window!r}")
    if x.size == 0:
        return np.empty(0), np.empty(0)
    # row t of the sliding view holds x[t - window : t] (NaN-padded before the series starts)
    past = sliding_window_view(np.r_[np.full(window, np.nan), x[:-1]], window)
    hist = np.sum(np.isfinite(past), axis=1).astype(np.float64)
    base = np.full(x.size, np.nan)
    has = hist > 0
    if np.any(has):
        base[has] = np.nanmedian(past[has], axis=1)
    return base, hist


def changepoints(
    values: ArrayLike,
    *,
    variance: float,
    penalty: float,
    min_size: int = 3,
    slope_penalty: float | None = None,
) -> tuple[int, ...]:
    """Change points (segment start indices) by PELT: a mean-shift model, or levels and trends.

    The series is scaled by ``sqrt(variance)`` and PELT is run with ``penalty`` per change point,
    so the penalties are in units of ``variance``. Without ``slope_penalty`` every segment is a
    constant level: the L2 cost (``ruptures.KernelCPD(kernel="linear")``, which equals
    ``ruptures.Pelt(model="l2")``). With it, each segment is either a constant level or a
    straight line, whichever has the smaller cost, the line paying ``slope_penalty`` for its
    slope, so a steady trend is one segment, not a staircase.

    >>> x = np.r_[np.arange(20.0), np.full(10, 5.0)]
    >>> changepoints(x, variance=0.01, penalty=10.0, slope_penalty=20.0)
    (20,)
    """
    x = as_float_array(values, "values")
    if not (variance > 0 and math.isfinite(variance)):
        raise ValueError(f"variance must be a positive finite number, got {variance!r}")
    if not (penalty > 0 and math.isfinite(penalty)):
        raise ValueError(f"penalty must be a positive finite number, got {penalty!r}")
    if slope_penalty is not None and not (slope_penalty > 0 and math.isfinite(slope_penalty)):
        raise ValueError(f"slope_penalty must be a positive finite number or None, got {slope_penalty!r}")
    if min_size < 1:
        raise ValueError(f"min_size must be ≥ 1, got {min_size!r}")
    if x.size < 2 * min_size:
        return ()
    y = (x - float(np.mean(x))) / math.sqrt(variance)
    if slope_penalty is None:
        # the linear kernel is the L2 cost; ruptures runs its PELT in C
        bkps = rpt.KernelCPD(kernel="linear", min_size=min_size, jump=1).fit(y).predict(pen=penalty)
        return tuple(int(b) for b in bkps[:-1])
    return _pelt_level_or_trend(y, penalty, slope_penalty, min_size)


def _prefix_sums(y: FloatArray) -> tuple[FloatArray, ...]:
    """Cumulative sums of 1, t, t², y, t·y, y² (t centred) for O(1) segment regressions."""
    t = np.arange(y.size, dtype=np.float64) - (y.size - 1) / 2.0
    return tuple(np.r_[0.0, np.cumsum(v)] for v in (np.ones(y.size), t, t * t, y, t * y, y * y))


def _segment_costs(
    sums: tuple[FloatArray, ...], lo: np.ndarray, hi: int, slope_penalty: float
) -> tuple[FloatArray, np.ndarray]:
    """Cost of the segments ``[lo, hi)``: the smaller of the squared error about the segment
    mean and the squared error about the least-squares line plus ``slope_penalty``; and whether
    the line is the smaller. ``sums`` come from :func:`_prefix_sums` (same scaling as ``y``)."""
    c1, ct, ctt, cy, cty, cyy = sums
    m = c1[hi] - c1[lo]
    st, sy = ct[hi] - ct[lo], cy[hi] - cy[lo]
    level = np.maximum(cyy[hi] - cyy[lo] - sy * sy / m, 0.0)
    var_t = ctt[hi] - ctt[lo] - st * st / m
    cov = cty[hi] - cty[lo] - st * sy / m
    gain = np.divide(cov * cov, var_t, out=np.zeros_like(var_t), where=var_t > 1e-12)
    trend = np.where(m >= 3, np.maximum(level - gain, 0.0) + slope_penalty, np.inf)  # a line needs 3 points
    return np.minimum(level, trend), trend < level


def _pelt_level_or_trend(
    y: FloatArray, penalty: float, slope_penalty: float, min_size: int
) -> tuple[int, ...]:
    """Exact PELT (Killick et al. 2012) with the level-or-trend segment cost. Splitting a segment
    never raises its squared error, but a line split in two pays two slope penalties, so
    ``C(a, b) + C(b, c) ≤ C(a, c) + slope_penalty`` and the pruning constant is
    ``K = −slope_penalty``: a start ``a`` is dropped once ``F(a) + C(a, t) − slope_penalty > F(t)``,
    which keeps the search exact (a test checks it against optimal partitioning). The bound
    needs both parts to be allowed a line (3 points), so with ``min_size < 3`` nothing is
    pruned."""
    n = y.size
    sums = _prefix_sums(y)
    best = np.full(n + 1, np.inf)
    best[0] = -penalty
    last = np.zeros(n + 1, dtype=np.int64)
    cands = np.zeros(1, dtype=np.int64)
    for hi in range(min_size, n + 1):
        # every start in ``cands`` is at least ``min_size`` before ``hi`` (added below)
        cost, _ = _segment_costs(sums, cands, hi, slope_penalty)
        total = best[cands] + cost
        j = int(np.argmin(total))
        best[hi], last[hi] = total[j] + penalty, cands[j]
        if min_size >= 3:  # the bound needs both parts long enough to hold a line
            cands = cands[total - slope_penalty <= best[hi]]
        if hi - min_size + 1 >= min_size:
            cands = np.append(cands, hi - min_size + 1)
    out, hi = [], n
    while hi > 0:
        if last[hi] > 0:
            out.append(int(last[hi]))
        hi = int(last[hi])
    return tuple(sorted(out))


def _piecewise_fit(
    x: FloatArray, cps: tuple[int, ...], slope_penalty: float | None, variance: float
) -> tuple[FloatArray, tuple[bool, ...]]:
    """Fitted values per segment (mean, or least-squares line where the segmentation chose one,
    judged with the same costs) and which segments are lines."""
    out = np.empty_like(x)
    lines: list[bool] = []
    sums = _prefix_sums((x - float(np.mean(x))) / math.sqrt(variance)) if slope_penalty else ()
    for lo, hi in itertools.pairwise([0, *cps, x.size]):
        seg = x[lo:hi]
        is_line = False
        if slope_penalty is not None and hi - lo >= 3:
            is_line = bool(_segment_costs(sums, np.array([lo]), hi, slope_penalty)[1][0])
        if is_line:
            t = np.arange(hi - lo, dtype=np.float64)
            t -= t.mean()
            slope = float(np.dot(t, seg - seg.mean()) / np.dot(t, t))
            out[lo:hi] = seg.mean() + slope * t
        else:
            out[lo:hi] = seg.mean()
        lines.append(is_line)
    return out, tuple(lines)


def _bends(
    x: FloatArray, cps: tuple[int, ...], lines: tuple[bool, ...], variance: float, alpha: float
) -> tuple[int, ...]:
    """Boundaries between two trend segments whose lines could as well meet without a jump.

    On ``[a, c)`` around a boundary ``b`` between two lines, the two separate lines (four
    parameters) are compared with the best **continuous** broken line ``1, t, (t − h)₊`` (three
    parameters, the hinge ``h`` searched over every junction of ``[a, c)``, so that the
    comparison does not hinge on where PELT put ``b``). The boundary is a jump when the squared
    error saved by the discontinuity, in units of ``variance`` (σ²_LR), exceeds
    ``z²_{α / (2 k)}`` over the ``k`` boundaries tested (the χ²₁ likelihood-ratio test of the
    jump); otherwise it is a bend of a curve, not an abrupt change (docs/detection.md, "Bends").
    """
    bounds = [0, *cps, x.size]
    tested = [i for i in range(1, len(bounds) - 1) if lines[i - 1] and lines[i]]
    if not tested:
        return ()
    crit = float(special.ndtri(1.0 - alpha / (2 * len(tested))))
    out = []
    for i in tested:
        a, b, c = bounds[i - 1], bounds[i], bounds[i + 1]
        y = x[a:c]
        t = np.arange(c - a, dtype=np.float64)
        right = (t >= b - a).astype(np.float64)
        two = np.column_stack([np.ones(c - a), t, right, right * (t - (b - a))])
        ss_two = _ssr(y, two)
        ss_hinge = min(
            _ssr(y, np.column_stack([np.ones(c - a), t, np.maximum(t - h, 0.0)])) for h in range(1, c - a - 1)
        )
        if ss_hinge - ss_two <= crit * crit * variance:
            out.append(b)
    return tuple(out)


def _ssr(y: FloatArray, design: FloatArray) -> float:
    """Residual sum of squares of the least-squares fit of ``y`` on ``design``."""
    beta = np.linalg.lstsq(design, y, rcond=None)[0]
    return float(np.sum((y - design @ beta) ** 2))


def _level_shifts(
    x: FloatArray, cps: tuple[int, ...], lr_sigma: float, alpha: float, min_effect: float
) -> list[tuple[int, int, float, float]]:
    """Anomalous segments vs the first one: (start, end, shift, z), merged by direction."""
    segs = list(itertools.pairwise([0, *cps, x.size]))
    if len(segs) < 2:
        return []
    ref = x[segs[0][0] : segs[0][1]]
    ref_mean, n_ref = float(ref.mean()), ref.size
    crit = float(special.ndtri(1.0 - alpha / (2 * (len(segs) - 1))))
    out: list[tuple[int, int, float, float]] = []
    for lo, hi in segs[1:]:
        shift = float(x[lo:hi].mean()) - ref_mean
        z = shift / (lr_sigma * math.sqrt(1.0 / (hi - lo) + 1.0 / n_ref))
        if abs(z) <= crit or abs(shift) < min_effect:
            continue
        if out and out[-1][1] == lo and np.sign(out[-1][2]) == np.sign(shift):
            start = out[-1][0]
            span = x[start:hi]
            merged = float(span.mean()) - ref_mean
            mz = merged / (lr_sigma * math.sqrt(1.0 / span.size + 1.0 / n_ref))
            out[-1] = (start, hi, merged, mz)
        else:
            out.append((lo, hi, shift, z))
    return out


def detect_anomalies(
    values: ArrayLike,
    *,
    alpha: float = 0.01,
    period: int | None = None,
    min_cycles: int = 3,
    window: int = 14,
    min_size: int = 3,
    min_history: int = 5,
    min_effect: float = 0.0,
    min_points: int = 6,
    penalty_factor: float = PENALTY_FACTOR,
    slope_factor: float | None = SLOPE_FACTOR,
) -> Detection:
    """Level shifts and point anomalies in ``values`` (see the module docstring).

    ``alpha`` is the false-alarm level of the tests per series; ``period`` the seasonal period
    in points (7 for daily buckets with weekly seasonality; None = no seasonality);
    ``min_size`` the shortest segment between change points; ``min_effect`` an absolute
    magnitude below which shifts are ignored; ``penalty_factor`` the ``c`` in the penalty
    ``c · ln n · σ²_LR``; ``slope_factor`` the ``c_s`` in a segment's slope penalty
    ``c_s · ln n · σ²_LR`` (None: constant levels only, the mean-shift model).
    """
    alpha = check_alpha(alpha)
    raw = as_float_array(values, "values")
    for name, v, lo in (("window", window, 1), ("min_size", min_size, 1), ("min_points", min_points, 3)):
        if v < lo:
            raise ValueError(f"{name} must be ≥ {lo}, got {v!r}")
    if period is not None and period < 1:
        raise ValueError(f"period must be ≥ 1 or None, got {period!r}")
    if min_effect < 0:
        raise ValueError(f"min_effect must be ≥ 0, got {min_effect!r}")
    if not (penalty_factor > 0 and math.isfinite(penalty_factor)):
        raise ValueError(f"penalty_factor must be a positive number, got {penalty_factor!r}")
    if slope_factor is not None and not (slope_factor > 0 and math.isfinite(slope_factor)):
        raise ValueError(f"slope_factor must be a positive number or None, got {slope_factor!r}")
    finite = np.flatnonzero(np.isfinite(raw))
    n = int(finite.size)
    base_full = np.full(raw.size, np.nan)
    if n < min_points:
        warn_degenerate(f"anomaly detection needs ≥ {min_points} finite points, got {n}")
        return Detection((), (), base_full, math.nan, n, False)
    x = raw[finite]
    season = seasonal_profile(x, period, min_cycles=min_cycles)
    seasonal = bool(np.any(season != 0.0))
    y = x - season
    base, hist = adaptive_baseline(y, window=window)
    base_full[finite] = base + season
    sigma0 = robust_sigma(y)
    if not (sigma0 > 0 and math.isfinite(sigma0)):
        warn_degenerate("anomaly detection skipped: the series is constant")
        return Detection((), (), base_full, math.nan, n, seasonal)

    beta = penalty_factor * math.log(n)
    gamma = slope_factor * math.log(n) if slope_factor is not None else None
    # pass 1: iid penalty with the robust σ̂ (MAD of differences) — liberal, it proposes where
    # the level moved, so that the noise model is estimated with those moves taken out;
    # pass 2: the long-run variance (the larger of the difference- and residual-based AR(1)
    # estimates on pass 1's residuals) scales the penalties and the tests
    cps1 = changepoints(y, variance=sigma0**2, penalty=beta, min_size=min_size, slope_penalty=gamma)
    fit1, lines1 = _piecewise_fit(y, cps1, gamma, sigma0**2)
    resid1 = y - fit1
    steps = tuple(c for c in cps1 if abs(fit1[c] - fit1[c - 1]) >= _STEP * sigma0)
    phases = period if seasonal and period else 0
    lr_diff = long_run_variance(y, breaks=steps)
    lr_res = _residual_lrv(resid1, len(cps1) + 1, phases + sum(lines1))
    lr = max((lr_diff, lr_res), key=lambda r: r.estimate if math.isfinite(r.estimate) else -1.0)
    if not (lr.estimate > 0 and math.isfinite(lr.estimate)):
        lr = _ar1(sigma0**2, 0.0, n, "robust-sigma")  # residuals all zero: a clean step
    segs = changepoints(y, variance=lr.estimate, penalty=beta, min_size=min_size, slope_penalty=gamma)
    fit, lines = _piecewise_fit(y, segs, gamma, lr.estimate)
    resid = y - fit
    sigma = _residual_lrv(resid, len(segs) + 1, phases + sum(lines)).sigma or lr.sigma or sigma0
    lr_sigma = math.sqrt(lr.estimate)
    # the fit keeps every segment; a bend (two lines meeting without a jump) is no change point
    bends = set(_bends(y, segs, lines, lr.estimate, alpha))
    cps = tuple(c for c in segs if c not in bends)

    found: list[Anomaly] = []
    covered = np.zeros(n, dtype=bool)
    ref_level = float(y[: cps[0]].mean()) if cps else float(y.mean())
    for lo, hi, shift, z in _level_shifts(y, cps, lr_sigma, alpha, min_effect):
        covered[lo:hi] = True
        found.append(_anomaly(finite, lo, hi, shift, z, "changepoint", ref_level))

    # point anomalies outside level shifts, against the trailing (deseasonalised) median
    point_crit = float(special.ndtri(1.0 - alpha / (2 * n)))
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = sigma * np.sqrt(1.0 + math.pi / (2.0 * np.maximum(hist, 1.0)))
        zt = (y - base) / scale
    flag = (hist >= min_history) & ~covered & (np.abs(np.nan_to_num(zt)) > point_crit)
    flag &= np.abs(np.nan_to_num(y - base)) >= min_effect
    t = 0
    while t < n:
        if not flag[t]:
            t += 1
            continue
        sign = np.sign(zt[t])
        u = t
        while u + 1 < n and flag[u + 1] and np.sign(zt[u + 1]) == sign:
            u += 1
        span = slice(t, u + 1)
        mag = float(np.mean(y[span] - base[span]))
        z = float(zt[span][np.argmax(np.abs(zt[span]))])
        found.append(_anomaly(finite, t, u + 1, mag, z, "robust_z", float(base[t] + season[t])))
        t = u + 1
    found.sort(key=lambda a: (a.start, a.end))
    return Detection(
        tuple(found), tuple(int(finite[c]) for c in cps), base_full, sigma, n, seasonal,
        phi=lr.phi, long_run_sigma=lr_sigma,
    )  # fmt: skip


def _anomaly(
    finite: np.ndarray, lo: int, hi: int, shift: float, z: float, method: str, baseline: float
) -> Anomaly:
    """An :class:`Anomaly` over finite positions ``[lo, hi)`` mapped back to input indices."""
    return Anomaly(
        start=int(finite[lo]),
        end=int(finite[hi - 1]) + 1,
        estimate=shift,
        direction="down" if shift < 0 else "up",
        score=float(z),
        pvalue=float(2.0 * special.ndtr(-abs(z))),
        n=hi - lo,
        method=method,
        baseline=baseline,
    )


__all__ = [
    "PENALTY_FACTOR",
    "SLOPE_FACTOR",
    "Anomaly",
    "Detection",
    "LongRunVariance",
    "adaptive_baseline",
    "changepoints",
    "detect_anomalies",
    "long_run_variance",
    "robust_sigma",
    "seasonal_profile",
]
