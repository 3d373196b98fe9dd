"""AR(1) series for the autocorrelation-aware tests (correlation, transfer)."""

from __future__ import annotations

import numpy as np


def ar1(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    """``x_t = phi * x_(t-1) + e_t`` with standard-normal ``e`` and ``x_0 = e_0``."""
    e = rng.normal(size=n)
    out = np.empty(n)
    out[0] = e[0]
    for t in range(1, n):
        out[t] = phi * out[t - 1] + e[t]
    return out
