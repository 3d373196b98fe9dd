"""Model deployment audit trail: traffic share per version over time, split into rollout phases.

Input: a ``buckets × versions`` matrix of (sampling-adjusted) prediction counts. Output: each
bucket's traffic share per version and the **phases** — runs of buckets with roughly constant
shares (a 10 % → 50 % → 100 % rollout gives three phases after the pre-rollout one).

Phase rule: a bucket opens a new phase when some version's share differs from the current
phase's mean share by more than ``max(tolerance, 4·sqrt(p(1−p)/n))`` (the absolute tolerance,
or four binomial standard errors of the bucket's share when its volume ``n`` is small) and the
change persists for ``min_buckets`` buckets with traffic. Phases shorter than ``min_buckets``
(a bucket in which the switch happened halfway) are merged into the phase that follows, so a
boundary is exact to within one bucket.

>>> counts = [[100, 0]] * 3 + [[90, 10]] * 3 + [[50, 50]] * 3 + [[0, 100]] * 3
>>> [(p.start, p.end) for p in rollout_phases(traffic_shares(counts), counts)]
[(0, 3), (3, 6), (6, 9), (9, 12)]
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


def _counts(counts: ArrayLike) -> FloatArray:
    arr = np.asarray(counts, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"counts must be a 2-D buckets × versions array, got shape {arr.shape}")
    if arr.size and (np.any(~np.isfinite(arr)) or np.any(arr < 0)):
        raise ValueError("counts must be finite and non-negative")
    return arr


def traffic_shares(counts: ArrayLike) -> FloatArray:
    """Each bucket's share per version (rows sum to 1; NaN rows for buckets without traffic).

    >>> traffic_shares([[3, 1], [0, 0]]).tolist()
    [[0.75, 0.25], [nan, nan]]
    """
    arr = _counts(counts)
    totals = arr.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, arr / np.where(totals > 0, totals, 1.0), np.nan)


@dataclass(frozen=True)
class Phase:
    """Buckets ``[start, end)`` with roughly constant shares (mean share per version, volume)."""

    start: int
    end: int
    shares: tuple[float, ...]
    n: float


def rollout_phases(
    shares: ArrayLike, counts: ArrayLike, *, tolerance: float = 0.05, min_buckets: int = 2
) -> list[Phase]:
    """Split the share matrix into phases (see the module doc); buckets without traffic join
    the phase around them. Empty input (or no traffic at all) gives no phases."""
    if not 0 < tolerance < 1:
        raise ValueError(f"tolerance must be in (0, 1), got {tolerance}")
    if min_buckets < 1:
        raise ValueError(f"min_buckets must be >= 1, got {min_buckets}")
    s = np.asarray(shares, dtype=np.float64)
    c = _counts(counts)
    if s.shape != c.shape:
        raise ValueError(f"shares {s.shape} and counts {c.shape} must have the same shape")
    totals = c.sum(axis=1)
    valid = np.flatnonzero(totals > 0)
    if valid.size == 0:
        return []

    def deviates(row: int, ref: FloatArray) -> bool:
        noise = 4.0 * np.sqrt(np.clip(ref * (1 - ref), 0, None) / totals[row])
        return bool(np.any(np.abs(s[row] - ref) > np.maximum(tolerance, noise)))

    starts = [int(valid[0])]
    acc, k = s[valid[0]].copy(), 1  # running sum of the current phase's shares
    for pos in range(1, valid.size):
        row = int(valid[pos])
        ref = acc / k
        if deviates(row, ref):
            ahead = valid[pos : pos + min_buckets]
            if all(deviates(int(r), ref) for r in ahead):
                starts.append(row)
                acc, k = s[row].copy(), 1
            continue  # a blip that does not persist is left out of the phase's mean
        acc, k = acc + s[row], k + 1
    # a phase shorter than min_buckets (a switch mid-bucket) is absorbed by the phase before it
    n_rows = s.shape[0]
    ends = [*starts[1:], n_rows]
    kept = [
        st
        for i, (st, end) in enumerate(zip(starts, ends, strict=True))
        if i == 0 or i == len(starts) - 1 or int(np.count_nonzero(totals[st:end] > 0)) >= min_buckets
    ]
    kept[0] = 0
    edges = [*kept, n_rows]
    phases = []
    for a, b in itertools.pairwise(edges):
        block = c[a:b].sum(axis=0)
        n = float(block.sum())
        phase_shares = tuple(float(x / n) if n > 0 else math.nan for x in block)
        phases.append(Phase(a, b, phase_shares, n))
    return phases


def rollout_index(
    phases: list[Phase], version: int, *, boundary: str = "rollout_start", tolerance: float = 0.05
) -> int | None:
    """First bucket of the first phase where version (column index) ``version`` is rolled out:
    ``rollout_start`` — its share is at least ``tolerance``; ``majority`` — at least
    ``0.5 − tolerance``; ``complete`` — at least ``1 − tolerance``. ``None`` when never, or already in the first
    phase (the rollout predates the data).

    >>> ph = [Phase(0, 3, (1.0, 0.0), 30), Phase(3, 6, (0.9, 0.1), 30), Phase(6, 9, (0.0, 1.0), 30)]
    >>> rollout_index(ph, 1), rollout_index(ph, 1, boundary="majority")
    (3, 6)
    """
    levels = {"rollout_start": tolerance, "majority": 0.5 - tolerance, "complete": 1.0 - tolerance}
    if boundary not in levels:
        raise ValueError(f"boundary must be one of {', '.join(levels)}, got {boundary!r}")
    for i, p in enumerate(phases):
        if not 0 <= version < len(p.shares):
            raise ValueError(f"version index {version} out of range")
        share = p.shares[version]
        if math.isfinite(share) and share >= levels[boundary]:
            return p.start if i > 0 else None
    return None


def newest_version(first_seen: ArrayLike) -> int | None:
    """Column of the version first seen last (``None`` with fewer than two versions: no rollout)."""
    arr = np.asarray(first_seen, dtype=np.float64)
    if arr.size < 2:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return int(np.nanargmax(arr))


__all__ = ["Phase", "newest_version", "rollout_index", "rollout_phases", "traffic_shares"]
