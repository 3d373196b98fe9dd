"""Report section "LLM cost per business outcome" from ``result["cost"]`` (stages/llm.py).

One row per business metric × model × prompt/model version (all users), with tokens, cost, the
outcomes and value the attribution credited to that version, and cost per outcome / per unit of
value; per-segment rows follow in a second table. A note names the cheapest version per outcome.

>>> cost_section({}).empty
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from otel_impact import semconv as sc
from otel_impact.report.base import Section, Table, fmt, rows_of, seg_label

_HEADERS = [
    "business metric",
    "model",
    "version",
    "predictions",
    "input tokens",
    "output tokens",
    "cost",
    "outcomes",
    "value",
    "cost / outcome",
    "cost / value",
]


def _cells(r: Mapping[str, Any]) -> list[str]:
    currency = str(r.get("currency") or "")
    cost = fmt(r.get("cost")) + (f" {currency}" if currency and r.get("cost") is not None else "")
    return [
        fmt(r.get("business_metric")),
        fmt(r.get(sc.ML_MODEL_NAME)),
        "all" if r.get(sc.ML_MODEL_VERSION) is None else fmt(r.get(sc.ML_MODEL_VERSION)),
        fmt(r.get("predictions")),
        fmt(r.get("input_tokens")),
        fmt(r.get("output_tokens")),
        cost,
        fmt(r.get("outcomes")),
        fmt(r.get("value")),
        fmt(r.get("cost_per_outcome")),
        fmt(r.get("cost_per_value")),
    ]


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def cost_section(result: Mapping[str, Any]) -> Section:
    """The LLM cost section (empty without LLM predictions)."""
    sec = Section("llm-cost", "LLM cost per business outcome")
    rows = rows_of(result, "cost")
    if not rows:
        return sec
    overall = [r for r in rows if not r.get("segment")]
    by_segment = [r for r in rows if r.get("segment")]
    sec.tables.append(Table(_HEADERS, [_cells(r) for r in overall]))
    if by_segment:
        sec.tables.append(
            Table(["segment", *_HEADERS], [[seg_label(r.get("segment")), *_cells(r)] for r in by_segment])
        )
    for metric in sorted({str(r.get("business_metric")) for r in overall}):
        priced = [
            r
            for r in overall
            if str(r.get("business_metric")) == metric
            and r.get(sc.ML_MODEL_VERSION) is not None
            and _finite(r.get("cost_per_outcome"))
        ]
        if len(priced) > 1:
            best = min(priced, key=lambda r: float(r["cost_per_outcome"]))
            sec.notes.append(
                f"{metric}: cheapest per outcome is {best.get(sc.ML_MODEL_NAME)} version "
                f"{best.get(sc.ML_MODEL_VERSION)} at {fmt(best.get('cost_per_outcome'))} per outcome "
                f"({best.get('attribution_model')} attribution)"
            )
    if any(not _finite(r.get("cost")) for r in overall):
        sec.notes.append("a model without an llm.prices entry or llm.cost.* attribute has no cost (–)")
    return sec


__all__ = ["cost_section"]
