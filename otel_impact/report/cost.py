"""Report section "LLM cost per business outcome" from ``result["cost"]`` (stages/llm.py).

One row per business metric × model × prompt/model version (all users), with tokens, cost, the
outcomes and value the attribution credited to that version, and cost per outcome / per unit of
value; per-segment rows follow in a second table. A note names the cheapest version per outcome.
"""

from __future__ import annotations

from otel_impact.records import CostRow, Result
from otel_impact.report.base import Section, Table, fmt, num, seg_label

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


def _cells(r: CostRow) -> list[str]:
    cost = fmt(r.cost) + (f" {r.currency}" if r.currency and num(r.cost) is not None else "")
    return [
        fmt(r.business_metric),
        fmt(r.model_name),
        "all" if r.model_version is None else fmt(r.model_version),
        fmt(r.predictions),
        fmt(r.input_tokens),
        fmt(r.output_tokens),
        cost,
        fmt(r.outcomes),
        fmt(r.value),
        fmt(r.cost_per_outcome),
        fmt(r.cost_per_value),
    ]


def cost_section(result: Result) -> Section:
    """The LLM cost section (empty without LLM predictions)."""
    sec = Section("llm-cost", "LLM cost per business outcome")
    rows = result.cost
    if not rows:
        return sec
    overall = [r for r in rows if not r.segment]
    by_segment = [r for r in rows if r.segment]
    sec.tables.append(Table(_HEADERS, [_cells(r) for r in overall]))
    if by_segment:
        sec.tables.append(
            Table(["segment", *_HEADERS], [[seg_label(r.segment), *_cells(r)] for r in by_segment])
        )
    for metric in sorted({r.business_metric for r in overall}):
        priced = [
            (cpo, r)
            for r in overall
            if r.business_metric == metric
            and r.model_version is not None
            and (cpo := num(r.cost_per_outcome)) is not None
        ]
        if len(priced) > 1:
            best = min(priced, key=lambda p: p[0])[1]
            sec.notes.append(
                f"{metric}: cheapest per outcome is {best.model_name} version "
                f"{best.model_version} at {fmt(best.cost_per_outcome)} per outcome "
                f"({best.attribution_model} attribution)"
            )
    if any(num(r.cost) is None for r in overall):
        sec.notes.append("a model without an llm.prices entry or llm.cost.* attribute has no cost (–)")
    return sec


__all__ = ["cost_section"]
