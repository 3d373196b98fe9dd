"""Config section ``llm``: LLM spans as predictions, evaluation results, cost per outcome.

LLM inference spans (GenAI conventions, OpenInference) are read as predictions without any
change in the traced service (see ``docs/llm.md``). This section says which span attribute names
an LLM prediction's *version* (teams version prompts, not weights), what tokens cost, and which
attribution model divides the cost by outcomes.

>>> s = LlmSection.model_validate({"prices": {"gpt-4o-mini": {"input": 0.15, "output": 0.6}}})
>>> s.price_of("gpt-4o-mini-2024-07-18").cached_input
0.15
>>> s.version_attributes[:2]
('ml.model.version', 'llm.prompt_template.version')
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator

from otel_impact import semconv
from otel_impact.config.base import Section

EVALUATION_METRIC_PREFIX = "evaluation."
_EVALUATION_METRIC = re.compile(r"^evaluation\.[A-Za-z0-9_.\-]+$")


def _evaluation_metric(v: str) -> str:
    if not _EVALUATION_METRIC.match(v):
        raise ValueError(f"expected 'evaluation.<evaluator name>', got {v!r}")
    return v


EvaluationMetric = Annotated[str, AfterValidator(_evaluation_metric)]
"""A model metric named after an evaluator: ``evaluation.<gen_ai.evaluation.name>`` (mean score)."""

LlmModelMetric = Literal["input_tokens", "output_tokens", "cached_input_tokens", "llm_cost"]
"""Per-bucket LLM model metrics (sums weighted by sampling; ``llm_cost`` in the price currency)."""


class ModelPrice(Section):
    """Prices of one model per ``LlmSection.price_unit_tokens`` tokens (default: per million)."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cached_input: float | None = Field(default=None, ge=0)  # default: the input price

    @property
    def cached(self) -> float:
        return self.input if self.cached_input is None else self.cached_input


class ResolvedPrice(Section):
    input: float
    output: float
    cached_input: float


class LlmSection(Section):
    """LLM predictions: version attributes, price table, cost attribution."""

    version_attributes: tuple[str, ...] = semconv.DEFAULT_LLM_VERSION_ATTRIBUTES
    prices: dict[str, ModelPrice] = Field(default_factory=dict)  # model name (or prefix) -> prices
    price_unit_tokens: float = Field(default=1_000_000.0, gt=0)
    currency: str = ""
    cost_source: Literal["auto", "prices", "attributes"] = "auto"  # auto: span cost attribute if present
    attribution_model: Literal["last_touch", "first_touch", "linear", "position_based", "time_decay"] = (
        "last_touch"
    )
    evaluations: bool = True  # per-evaluator mean-score series (evaluation.<name>)
    # an evaluator whose score labels are ground truth (like ml.outcome labels) for online quality
    ground_truth_evaluation: str | None = None

    @field_validator("version_attributes")
    @classmethod
    def _some(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v or any(not k.strip() for k in v) or len(set(v)) != len(v):
            raise ValueError("give at least one attribute name, without blanks or repeats")
        return v

    def price_of(self, model: str) -> ResolvedPrice | None:
        """Price of ``model``: an exact entry, else the longest entry that prefixes it
        (``gpt-4o-mini`` prices the response model ``gpt-4o-mini-2024-07-18``), else ``None``."""
        entry = self.prices.get(model)
        if entry is None:
            prefixes = [k for k in self.prices if model.startswith(k)]
            if not prefixes:
                return None
            entry = self.prices[max(prefixes, key=len)]
        return ResolvedPrice(input=entry.input, output=entry.output, cached_input=entry.cached)


__all__ = ["EVALUATION_METRIC_PREFIX", "EvaluationMetric", "LlmModelMetric", "LlmSection", "ModelPrice"]
