"""Result building blocks shared by every analysis in :mod:`otel_impact.analyze`.

All analyses return small frozen dataclasses that use the same field names — ``estimate``,
``ci`` (a :class:`ConfidenceInterval` with ``low``, ``high``, ``level``), ``pvalue``, ``n`` and
``method`` — so stages and exporters can treat them alike. Degenerate input never raises: the
analysis returns NaN fields and emits a :class:`DegenerateDataWarning` (a ``RuntimeWarning``)
that a stage can catch and copy into the job's warning list.

>>> ci = ConfidenceInterval(0.1, 0.3, 0.95)
>>> ci.to_list()
[0.1, 0.3]
>>> NAN_CI.contains(0.0)
False
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


class DegenerateDataWarning(RuntimeWarning):
    """Too little or constant data: the result carries NaN fields instead of a number."""


def warn_degenerate(message: str) -> None:
    """Emit a :class:`DegenerateDataWarning` attributed to the caller of the analysis."""
    warnings.warn(message, DegenerateDataWarning, stacklevel=3)


@dataclass(frozen=True)
class ConfidenceInterval:
    """A two-sided confidence interval ``[low, high]`` at confidence ``level``."""

    low: float
    high: float
    level: float = 0.95

    def to_list(self) -> list[float]:
        """``[low, high]`` — the JSON shape shared by every result."""
        return [self.low, self.high]

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies inside the interval (False when the interval is NaN)."""
        return bool(self.low <= value <= self.high)

    @property
    def is_nan(self) -> bool:
        return math.isnan(self.low) or math.isnan(self.high)


NAN_CI = ConfidenceInterval(math.nan, math.nan, 0.95)


def nan_ci(level: float = 0.95) -> ConfidenceInterval:
    """An undefined interval at ``level``."""
    return ConfidenceInterval(math.nan, math.nan, level)


def as_float_array(values: ArrayLike, name: str) -> FloatArray:
    """``values`` as a 1-D float64 array; ValueError naming ``name`` if it is not 1-D."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def check_level(level: float, name: str = "level") -> float:
    """Validate a confidence level in (0, 1)."""
    if not (0.0 < float(level) < 1.0):
        raise ValueError(f"{name} must be in (0, 1), got {level!r}")
    return float(level)


def check_alpha(alpha: float, name: str = "alpha") -> float:
    """Validate a significance level in (0, 1)."""
    if not (0.0 < float(alpha) < 1.0):
        raise ValueError(f"{name} must be in (0, 1), got {alpha!r}")
    return float(alpha)


__all__ = [
    "NAN_CI",
    "ConfidenceInterval",
    "DegenerateDataWarning",
    "FloatArray",
    "as_float_array",
    "check_alpha",
    "check_level",
    "nan_ci",
    "warn_degenerate",
]
