"""Distribution drift between a reference window and a current bucket: PSI, KS and novelty.

These are the data-quality signals the incidents stage computes from what the services emit:

* **PSI** (population stability index) of the prediction-score distribution. Bins are the
  reference sample's quantiles (``bins`` equal-mass bins, open-ended outer bins), so the
  reference proportions are ~``1/bins`` each; then
  ``PSI = Σ_i (a_i − e_i) · ln(a_i / e_i)`` with ``e_i``/``a_i`` the reference/current
  proportions, each floored at ``eps`` so an empty bin stays finite (Siddiqi 2006, "Credit
  Risk Scorecards", ch. 8; usual reading: < 0.1 stable, 0.1–0.25 moderate, > 0.25 major shift).
  :func:`psi_from_counts` takes bucket counts directly (e.g. the ``ml.prediction.score``
  histogram metric's ``BucketCounts``, turned into per-bucket counts by
  :func:`histogram_deltas`).
* **KS**: the two-sample Kolmogorov–Smirnov statistic and p-value (``scipy.stats.ks_2samp``,
  exact for small samples, asymptotic otherwise).
* **Novelty**: share of the distinct values in the current bucket (feature-vector hashes) that
  never occurred in the reference window — new kinds of inputs the model has not seen.

Thin input (an empty side) gives NaN fields plus a
:class:`~otel_impact.analyze.results.DegenerateDataWarning`, never an exception.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> ref, cur = rng.normal(0, 1, 2000), rng.normal(0.5, 1, 2000)
>>> psi(ref, cur).estimate > 0.1, ks(ref, cur).pvalue < 1e-6
(True, True)
>>> novelty(["a", "b"], ["b", "c", "d"]).estimate
0.6666666666666666
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from otel_impact.analyze.results import FloatArray, as_float_array, warn_degenerate


@dataclass(frozen=True)
class PsiResult:
    """Population stability index of ``current`` against ``reference``."""

    estimate: float
    n: int  # current sample size
    n_reference: int
    bins: int  # bins actually used (ties in the reference can merge quantile edges)
    method: str = "psi"


@dataclass(frozen=True)
class KsResult:
    """Two-sample Kolmogorov–Smirnov test of ``current`` against ``reference``."""

    estimate: float  # the KS statistic D = sup |F_ref − F_cur|
    pvalue: float
    n: int
    n_reference: int
    method: str = "ks"


@dataclass(frozen=True)
class NoveltyResult:
    """Share of distinct current values unseen in the reference."""

    estimate: float
    n: int  # distinct values in the current bucket
    n_new: int
    method: str = "novelty"


def _finite(values: ArrayLike, name: str) -> FloatArray:
    arr = as_float_array(values, name)
    return arr[np.isfinite(arr)]


def _check_eps(eps: float) -> float:
    if not (0.0 < float(eps) < 1.0):
        raise ValueError(f"eps must be in (0, 1), got {eps!r}")
    return float(eps)


def quantile_edges(reference: ArrayLike, bins: int = 10) -> FloatArray:
    """Inner bin edges at the reference's ``1/bins … (bins−1)/bins`` quantiles (duplicates merged).

    Bins are ``(-inf, e_0], (e_0, e_1], … (e_k, inf)``.
    """
    if not isinstance(bins, int | np.integer) or isinstance(bins, bool) or bins < 2:
        raise ValueError(f"bins must be an integer ≥ 2, got {bins!r}")
    ref = _finite(reference, "reference")
    if ref.size == 0:
        return np.empty(0, dtype=np.float64)
    qs = np.quantile(ref, np.arange(1, bins) / bins)
    return np.unique(qs)


def bin_counts(values: ArrayLike, edges: ArrayLike) -> FloatArray:
    """Counts of finite ``values`` in the bins defined by inner ``edges`` (right-closed)."""
    arr = _finite(values, "values")
    e = as_float_array(edges, "edges")
    idx = np.searchsorted(e, arr, side="left")
    return np.bincount(idx, minlength=e.size + 1).astype(np.float64)


def psi_from_counts(
    reference_counts: ArrayLike, current_counts: ArrayLike, *, eps: float = 1e-4
) -> PsiResult:
    """PSI from per-bin counts (or weights) over the same bins.

    >>> round(psi_from_counts([50, 50], [25, 75]).estimate, 6)
    0.274653
    """
    eps = _check_eps(eps)
    ref = as_float_array(reference_counts, "reference_counts")
    cur = as_float_array(current_counts, "current_counts")
    if ref.shape != cur.shape:
        raise ValueError(
            f"reference_counts and current_counts must have the same length, got {ref.size} and {cur.size}"
        )
    if np.any(ref < 0) or np.any(cur < 0) or not (np.all(np.isfinite(ref)) and np.all(np.isfinite(cur))):
        raise ValueError("counts must be finite and non-negative")
    n_ref, n_cur = float(ref.sum()), float(cur.sum())
    if n_ref <= 0 or n_cur <= 0:
        warn_degenerate("PSI needs observations on both sides; got an empty reference or current bucket")
        return PsiResult(math.nan, round(n_cur), round(n_ref), int(ref.size))
    e = np.maximum(ref / n_ref, eps)
    a = np.maximum(cur / n_cur, eps)
    value = float(np.sum((a - e) * np.log(a / e)))
    return PsiResult(value, round(n_cur), round(n_ref), int(ref.size))


def psi(reference: ArrayLike, current: ArrayLike, *, bins: int = 10, eps: float = 1e-4) -> PsiResult:
    """PSI of ``current`` against ``reference`` on the reference's quantile bins (NaNs dropped)."""
    edges = quantile_edges(reference, bins)
    ref = _finite(reference, "reference")
    cur = _finite(current, "current")
    if ref.size == 0 or cur.size == 0:
        _check_eps(eps)
        warn_degenerate("PSI needs observations on both sides; got an empty reference or current sample")
        return PsiResult(math.nan, int(cur.size), int(ref.size), int(edges.size + 1))
    return psi_from_counts(bin_counts(ref, edges), bin_counts(cur, edges), eps=eps)


def ks(reference: ArrayLike, current: ArrayLike) -> KsResult:
    """Two-sample KS statistic and p-value (``scipy.stats.ks_2samp``; NaNs dropped)."""
    ref = _finite(reference, "reference")
    cur = _finite(current, "current")
    if ref.size == 0 or cur.size == 0:
        warn_degenerate("KS needs observations on both sides; got an empty reference or current sample")
        return KsResult(math.nan, math.nan, int(cur.size), int(ref.size))
    res = stats.ks_2samp(ref, cur)
    return KsResult(float(res.statistic), float(res.pvalue), int(cur.size), int(ref.size))


def novelty(reference_values: Iterable[object], current_values: Iterable[object]) -> NoveltyResult:
    """Share of distinct ``current_values`` never seen among ``reference_values``.

    Empty strings / None count as "no hash" and are ignored on both sides.
    """
    ref = {v for v in reference_values if v not in ("", None)}
    cur = {v for v in current_values if v not in ("", None)}
    if not cur:
        warn_degenerate("novelty needs at least one value in the current bucket")
        return NoveltyResult(math.nan, 0, 0)
    new = len(cur - ref)
    return NoveltyResult(new / len(cur), len(cur), new)


def histogram_deltas(
    series: Sequence[str],
    buckets: Sequence[int],
    cumulative: Sequence[bool],
    counts: Sequence[ArrayLike],
    *,
    from_zero: Sequence[bool] | None = None,
) -> dict[int, FloatArray]:
    """Per-bucket histogram counts summed over series, from OTel histogram points.

    Row ``i`` is one series' state in bucket ``buckets[i]``: for a cumulative series the last
    cumulative ``BucketCounts`` seen in that bucket, for a delta series the sum of its deltas.
    A cumulative series contributes ``last − previous last`` (a decrease means the process
    restarted: its counts start again from zero); its first bucket counts only when
    ``from_zero[i]`` says the series started inside the analysed range (otherwise the counts
    before are unknown). All rows must share one bucket layout (same length).

    >>> histogram_deltas(["s", "s", "s"], [0, 1, 2], [True] * 3, [[1, 1], [3, 1], [4, 5]], from_zero=[True] * 3)
    {0: array([1., 1.]), 1: array([2., 0.]), 2: array([1., 4.])}
    """
    n = len(series)
    if not (len(buckets) == len(cumulative) == len(counts) == n):
        raise ValueError("series, buckets, cumulative and counts must have the same length")
    zero = [False] * n if from_zero is None else list(from_zero)
    if len(zero) != n:
        raise ValueError("from_zero must have the same length as series")
    arrays = [as_float_array(c, "counts") for c in counts]
    if len({a.size for a in arrays}) > 1:
        raise ValueError("counts must all have the same number of histogram buckets")
    out: dict[int, FloatArray] = {}
    previous: dict[str, FloatArray] = {}
    for i in sorted(range(n), key=lambda j: (series[j], buckets[j])):
        arr, key = arrays[i], series[i]
        if cumulative[i]:
            prev = previous.get(key)
            previous[key] = arr
            if prev is None:
                if not zero[i]:
                    continue
                delta = arr
            else:
                delta = arr if np.any(arr < prev) else arr - prev
        else:
            delta = arr
        b = int(buckets[i])
        out[b] = out[b] + delta if b in out else delta.copy()
    return dict(sorted(out.items()))


__all__ = [
    "KsResult",
    "NoveltyResult",
    "PsiResult",
    "bin_counts",
    "histogram_deltas",
    "ks",
    "novelty",
    "psi",
    "psi_from_counts",
    "quantile_edges",
]
