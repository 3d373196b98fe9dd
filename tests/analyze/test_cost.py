"""Token cost and cost per outcome against closed-form arithmetic."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from otel_impact.analyze.cost import combine_costs, cost_per_outcome, token_cost
from otel_impact.analyze.results import DegenerateDataWarning


def test_token_cost_prices_cached_input_apart_from_the_rest() -> None:
    rng = np.random.default_rng(5)
    inp = rng.integers(0, 5000, 50).astype(float)
    cached = np.floor(inp * rng.uniform(0, 1, 50))
    out = rng.integers(0, 2000, 50).astype(float)
    got = token_cost(inp, out, cached, input_price=2.5, output_price=10.0, cached_input_price=1.25)
    expected = [((i - c) * 2.5 + c * 1.25 + o * 10.0) / 1e6 for i, c, o in zip(inp, cached, out, strict=True)]
    np.testing.assert_allclose(got, expected, rtol=1e-15)
    same = token_cost(inp, out, cached, input_price=2.5, output_price=10.0)  # no cached price: input price
    np.testing.assert_allclose(same, (inp * 2.5 + out * 10.0) / 1e6, rtol=1e-15)
    per_k = token_cost(
        [1000], [0], [5000], input_price=3.0, output_price=0.0, cached_input_price=1.0, unit=1000
    )
    assert per_k.tolist() == [1.0]  # cached capped at the input count


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"input_price": -1.0, "output_price": 1.0}, "input_price"),
        ({"input_price": 1.0, "output_price": math.nan}, "output_price"),
        ({"input_price": 1.0, "output_price": 1.0, "cached_input_price": -0.5}, "cached_input_price"),
        ({"input_price": 1.0, "output_price": 1.0, "unit": 0.0}, "unit"),
    ],
)
def test_token_cost_names_the_bad_argument(kwargs: dict[str, float], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        token_cost([1], [1], [0], **kwargs)  # type: ignore[arg-type]


def test_cost_per_outcome_and_its_degenerate_cases() -> None:
    r = cost_per_outcome(12.5, outcomes=5.0, value=250.0)
    assert (r.cost, r.per_outcome, r.per_value) == (12.5, 2.5, 0.05)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        none = cost_per_outcome(3.0, outcomes=0.0, value=0.0)
    assert math.isnan(none.per_outcome) and math.isnan(none.per_value)
    assert any(issubclass(w.category, DegenerateDataWarning) for w in caught)
    for bad in (
        {"cost": -1.0, "outcomes": 1.0},
        {"cost": math.inf, "outcomes": 1.0},
        {"cost": 1.0, "outcomes": -2.0},
    ):
        with pytest.raises(ValueError):
            cost_per_outcome(bad["cost"], outcomes=bad["outcomes"], value=1.0)


def test_span_cost_attributes_replace_the_priced_cost_of_their_share() -> None:
    got = combine_costs([10.0, 10.0, 10.0], [0.0, 4.0, 7.0], [0.0, 0.5, 1.0])
    np.testing.assert_allclose(got, [10.0, 4.0 + 5.0, 7.0])
