"""Cost of LLM predictions and cost per business outcome (pure: arrays in, frozen records out).

* Token cost (provider price sheets, per ``unit`` tokens): cached input tokens are part of the
  input tokens (``gen_ai.usage.input_tokens`` includes them, as OpenAI's ``prompt_tokens``
  does), so ``cost = ((input − cached) × p_in + cached × p_cached + output × p_out) / unit``.
* A span's own cost attribute (``llm.cost.*``), when present, replaces the price-table cost of
  that span (:func:`combine_costs` works on sums: priced spans and spans with an attribute).
* Cost per outcome = cost / attributed outcomes; cost per value = cost / attributed value (NaN
  with a warning when nothing was attributed).

>>> float(token_cost(1000, 500, 200, input_price=2.0, output_price=8.0, cached_input_price=0.5))
0.0057
>>> r = cost_per_outcome(12.0, outcomes=4.0, value=300.0)
>>> r.per_outcome, r.per_value
(3.0, 0.04)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from otel_impact.analyze.results import as_float_array, warn_degenerate


def token_cost(
    input_tokens: ArrayLike,
    output_tokens: ArrayLike,
    cached_input_tokens: ArrayLike,
    *,
    input_price: float,
    output_price: float,
    cached_input_price: float | None = None,
    unit: float = 1_000_000.0,
) -> np.ndarray:
    """Cost of token counts at prices per ``unit`` tokens (elementwise; cached ≤ input assumed,
    larger cached counts are capped at the input count)."""
    for name, price in (("input_price", input_price), ("output_price", output_price)):
        if not (price >= 0 and math.isfinite(price)):
            raise ValueError(f"{name} must be a finite number >= 0, got {price!r}")
    cached_price = input_price if cached_input_price is None else cached_input_price
    if not (cached_price >= 0 and math.isfinite(cached_price)):
        raise ValueError(f"cached_input_price must be a finite number >= 0, got {cached_input_price!r}")
    if not unit > 0:
        raise ValueError(f"unit must be positive, got {unit!r}")
    inp = np.maximum(np.asarray(input_tokens, dtype=np.float64), 0.0)
    out = np.maximum(np.asarray(output_tokens, dtype=np.float64), 0.0)
    cached = np.minimum(np.maximum(np.asarray(cached_input_tokens, dtype=np.float64), 0.0), inp)
    return ((inp - cached) * input_price + cached * cached_price + out * output_price) / unit


@dataclass(frozen=True)
class CostPerOutcome:
    """Cost of a model version (× segment) against the outcomes attributed to it."""

    cost: float
    outcomes: float
    value: float
    per_outcome: float
    per_value: float  # cost per unit of attributed value (e.g. per dollar of revenue)
    method: str = "cost / attributed outcomes"


def cost_per_outcome(cost: float, *, outcomes: float, value: float) -> CostPerOutcome:
    """Cost per attributed outcome and per unit of attributed value.

    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     math.isnan(cost_per_outcome(5.0, outcomes=0.0, value=0.0).per_outcome)
    True
    """
    if not (math.isfinite(cost) and cost >= 0):
        raise ValueError(f"cost must be a finite number >= 0, got {cost!r}")
    if math.isnan(outcomes) or outcomes < 0:
        raise ValueError(f"outcomes must be >= 0, got {outcomes!r}")
    per_outcome = cost / outcomes if outcomes > 0 else math.nan
    per_value = cost / value if math.isfinite(value) and value > 0 else math.nan
    if outcomes <= 0:
        warn_degenerate("no outcomes attributed: cost per outcome is undefined")
    return CostPerOutcome(float(cost), float(outcomes), float(value), per_outcome, per_value)


def combine_costs(priced: ArrayLike, attributed: ArrayLike, attributed_share: ArrayLike) -> np.ndarray:
    """Cost when some spans carry their own cost: ``attributed`` (sum of span cost attributes) plus
    the price-table cost of the other spans, ``priced × (1 − attributed_share)`` (share of spans,
    weighted, that carry an attribute; the priced cost of those spans is assumed proportional)."""
    p = as_float_array(priced, "priced")
    a = as_float_array(attributed, "attributed")
    s = np.clip(as_float_array(attributed_share, "attributed_share"), 0.0, 1.0)
    return np.where(s > 0, a, 0.0) + p * (1.0 - s)


__all__ = ["CostPerOutcome", "combine_costs", "cost_per_outcome", "token_cost"]
