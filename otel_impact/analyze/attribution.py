"""Data-driven attribution over channel paths: Markov-chain removal effect and Shapley values.

A *channel* is anything a journey passes through — here a model version that served the key.
Inputs are the distinct paths (tuples of channel indices, consecutive repeats already
collapsed), with how many journeys along each path converted, the value they converted, and how
many did not convert. ClickHouse aggregates those counts
(:func:`otel_impact.store.stitch.channel_paths`); the combinatorics happen here.

* :func:`markov_attribution` — first-order Markov chain with states start → channels →
  conversion / null. The removal effect of channel *c* is ``1 - P(conv | c removed) / P(conv)``
  (Anderl et al., 2016, "Mapping the customer journey"); credit is the total converted value
  split in proportion to the removal effects.
* :func:`shapley_attribution` — the cooperative-game Shapley value with
  ``v(S) = Σ value of converting paths whose channel set ⊆ S`` (Zhao et al., 2018, "Shapley
  value methods for attribution modeling in online advertising"); it sums to ``v(all)``.

Both return an :class:`AttributionResult` whose ``value`` sums to the total converted value and
``credit`` to the number of conversions.

>>> r = shapley_attribution([(0,), (1,), (0, 1)], [10, 5, 6], n_channels=2)
>>> r.value.tolist()
[13.0, 8.0]
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike


@dataclass(frozen=True)
class AttributionResult:
    """Credit per channel.

    ``value``: converted value credited to each channel (sums to the total converted value);
    ``credit``: conversions credited (sums to the number of conversions); ``estimate``: each
    channel's share of the total (sums to 1; NaN when nothing converted); ``removal_effect``:
    Markov only (NaN for Shapley); ``n``: journeys (converting + non-converting).
    """

    value: np.ndarray
    credit: np.ndarray
    estimate: np.ndarray
    removal_effect: np.ndarray
    n: int
    method: str


def _validate(
    paths: Sequence[Sequence[int]], arrays: dict[str, ArrayLike | None], n_channels: int
) -> dict[str, np.ndarray]:
    if n_channels < 0:
        raise ValueError(f"n_channels must be >= 0, got {n_channels}")
    out: dict[str, np.ndarray] = {}
    for name, values in arrays.items():
        arr = np.zeros(len(paths)) if values is None else np.asarray(values, dtype=np.float64)
        if arr.shape != (len(paths),):
            raise ValueError(f"{name} must have one entry per path ({len(paths)}), got shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite")
        out[name] = arr
    for i, path in enumerate(paths):
        for ch in path:
            if not 0 <= int(ch) < n_channels:
                raise ValueError(f"paths[{i}] has channel {ch} outside [0, n_channels={n_channels})")
    if np.any(out["conversions"] < 0):
        raise ValueError("conversions must be non-negative")
    if "non_conversions" in out and np.any(out["non_conversions"] < 0):
        raise ValueError("non_conversions must be non-negative")
    return out


def _split(total: float, weights: np.ndarray) -> np.ndarray:
    s = float(weights.sum())
    if s <= 0 or not math.isfinite(s):
        return np.full(weights.shape, np.nan)
    return total * weights / s


def _conversion_probability(trans: np.ndarray, n_channels: int, removed: int | None) -> float:
    """P(reaching conversion from start) in the absorbing chain; states: 0 start, 1..n channels,
    n+1 conversion, n+2 null. ``removed`` channel sends all its mass to null."""
    t = trans.copy()
    if removed is not None:
        row = 1 + removed
        t[row, :] = 0.0
        t[row, n_channels + 2] = 1.0
    totals = t.sum(axis=1, keepdims=True)
    p = np.divide(t, totals, out=np.zeros_like(t), where=totals > 0)
    transient = n_channels + 1
    q = p[:transient, :transient]
    r = p[:transient, transient]
    # absorption probability into "conversion": (I - Q) x = r  (standard absorbing-chain result)
    x = np.linalg.solve(np.eye(transient) - q, r)
    return float(x[0])


def markov_attribution(
    paths: Sequence[Sequence[int]],
    conversions: ArrayLike,
    non_conversions: ArrayLike | None = None,
    value: ArrayLike | None = None,
    *,
    n_channels: int,
) -> AttributionResult:
    """First-order Markov removal-effect attribution.

    ``paths[i]`` is a sequence of channel indices; ``conversions[i]`` / ``non_conversions[i]``
    count the journeys along it that did / did not convert; ``value[i]`` is their converted
    value (default: the conversion count). Returns NaN shares with a warning when nothing
    converted.

    >>> r = markov_attribution([(0,), (0, 1), (1,)], [1, 1, 0], [0, 0, 1], n_channels=2)
    >>> [round(x, 6) for x in r.removal_effect.tolist()]
    [0.75, 0.5]
    """
    arrs = _validate(
        paths, {"conversions": conversions, "non_conversions": non_conversions, "value": value}, n_channels
    )
    conv, nonconv = arrs["conversions"], arrs["non_conversions"]
    val = conv if value is None else arrs["value"]
    n = int(conv.sum() + nonconv.sum())
    total_value, total_conv = float(val.sum()), float(conv.sum())
    nan = np.full(n_channels, np.nan)
    if total_conv <= 0 or n_channels == 0:
        if n_channels:
            warnings.warn("markov_attribution: no conversions; shares are NaN", RuntimeWarning, stacklevel=2)
        return AttributionResult(nan.copy(), nan.copy(), nan.copy(), nan.copy(), n, "markov")
    size = n_channels + 3
    conv_state, null_state = n_channels + 1, n_channels + 2
    trans = np.zeros((size, size))
    for path, c, u in zip(paths, conv, nonconv, strict=True):
        weight = c + u
        if weight <= 0 or len(path) == 0:
            continue
        states = [0, *(1 + int(ch) for ch in path)]
        for a, b in itertools.pairwise(states):
            trans[a, b] += weight
        trans[states[-1], conv_state] += c
        trans[states[-1], null_state] += u
    base = _conversion_probability(trans, n_channels, None)
    effect = np.array(
        [1.0 - _conversion_probability(trans, n_channels, ch) / base for ch in range(n_channels)]
    )
    effect = np.clip(effect, 0.0, None)
    share = _split(1.0, effect)
    return AttributionResult(
        value=_split(total_value, effect),
        credit=_split(total_conv, effect),
        estimate=share,
        removal_effect=effect,
        n=n,
        method="markov",
    )


def shapley_attribution(
    paths: Sequence[Sequence[int]],
    conversions: ArrayLike,
    value: ArrayLike | None = None,
    *,
    n_channels: int,
    non_conversions: ArrayLike | None = None,
    max_channels: int = 20,
) -> AttributionResult:
    """Shapley-value attribution with ``v(S) = Σ value of converting paths whose channel set ⊆ S``.

    Exact over all ``2**n_channels`` coalitions (``n_channels`` ≤ ``max_channels``, else
    ValueError). Non-converting journeys only count towards ``n``. ``credit`` uses the same
    game with conversion counts.
    """
    if n_channels > max_channels:
        raise ValueError(f"n_channels ({n_channels}) exceeds max_channels ({max_channels}) for exact Shapley")
    arrs = _validate(
        paths, {"conversions": conversions, "value": value, "non_conversions": non_conversions}, n_channels
    )
    conv = arrs["conversions"]
    val = conv if value is None else arrs["value"]
    n = int(conv.sum() + arrs["non_conversions"].sum())
    if n_channels == 0 or conv.sum() <= 0:
        nan = np.full(n_channels, np.nan)
        if n_channels:
            warnings.warn("shapley_attribution: no conversions; shares are NaN", RuntimeWarning, stacklevel=2)
        return AttributionResult(nan.copy(), nan.copy(), nan.copy(), nan.copy(), n, "shapley")
    masks = np.array([sum(1 << int(ch) for ch in set(path)) for path in paths], dtype=np.int64)
    size = 1 << n_channels
    phi_value = _shapley(masks, val, size, n_channels)
    phi_credit = _shapley(masks, conv, size, n_channels)
    return AttributionResult(
        value=phi_value,
        credit=phi_credit,
        estimate=_split(1.0, phi_value) if val.sum() > 0 else _split(1.0, phi_credit),
        removal_effect=np.full(n_channels, np.nan),
        n=n,
        method="shapley",
    )


def _shapley(masks: np.ndarray, weights: np.ndarray, size: int, n_channels: int) -> np.ndarray:
    exact = np.zeros(size)
    np.add.at(exact, masks, weights)
    v = exact.copy()
    # subset-sum (zeta) transform: v[S] = Σ_{T ⊆ S} exact[T]
    all_masks = np.arange(size)
    for bit in range(n_channels):
        has = (all_masks >> bit) & 1 == 1
        v[has] += v[all_masks[has] ^ (1 << bit)]
    popcount = np.array([bin(m).count("1") for m in range(size)])
    fact = [math.factorial(i) for i in range(n_channels + 1)]
    weight_by_size = np.array(
        [
            fact[s] * fact[n_channels - s - 1] / fact[n_channels] if s < n_channels else 0.0
            for s in range(n_channels + 1)
        ]
    )
    phi = np.zeros(n_channels)
    for ch in range(n_channels):
        without = all_masks[(all_masks >> ch) & 1 == 0]
        phi[ch] = float(np.sum(weight_by_size[popcount[without]] * (v[without | (1 << ch)] - v[without])))
    return phi


__all__ = ["AttributionResult", "markov_attribution", "shapley_attribution"]
