"""Planted segment panels for the rollout-impact tests: trend, weekly seasonality, AR(1) noise."""

from __future__ import annotations

import numpy as np

SEGMENTS = ("a", "b", "c", "d", "e", "f")
LEVELS = (1.25, 1.0, 1.1, 1.2, 1.35, 1.5, 0.9, 1.4)  # segment 0 lies inside the donors' range


def ar1(rng: np.random.Generator, n: int, phi: float, sd: float) -> np.ndarray:
    e = np.empty(n)
    e[0] = rng.normal(0, sd / np.sqrt(1 - phi * phi))
    for i in range(1, n):
        e[i] = phi * e[i - 1] + rng.normal(0, sd)
    return e


def panel(
    seed: int,
    *,
    days: int = 84,
    rollout: int = 56,
    effect: float = 0.0,
    shock: float = 0.0,
    phi: float = 0.5,
    noise: float = 0.02,
    segments: int = len(SEGMENTS),
) -> np.ndarray:
    """``days × segments`` daily values. Segment 0 gets ``× (1 + effect)`` from ``rollout`` on;
    every segment gets ``× (1 + shock)`` from ``rollout`` on (a confounder hitting all of them).
    Segments share a trend and weekly pattern (with their own loadings) and have their own
    level and AR(1) noise of ``noise`` relative sd."""
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    common = 1.0 + 0.004 * t + 0.08 * np.sin(2 * np.pi * t / 7) + ar1(rng, days, 0.7, 0.01)
    out = np.empty((days, segments))
    for j in range(segments):
        level = 1000.0 * LEVELS[j]
        loading = 1.0 if j == 0 else 0.7 + 0.6 * rng.random()
        out[:, j] = (
            level
            * (1.0 + loading * (common - 1.0))
            * (1.0 + ar1(rng, days, phi, noise * np.sqrt(1 - phi**2)))
        )
    out[rollout:, 0] *= 1.0 + effect
    out[rollout:, :] *= 1.0 + shock
    return out
