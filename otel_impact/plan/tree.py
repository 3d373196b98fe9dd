"""What the tracking plan says about a metric-tree node's source (``event`` / ``model`` nodes).

:func:`tree_marks` turns a plan (and optionally a :class:`~otel_impact.plan.check.PlanReport`)
into the callable :func:`otel_impact.tree.measure_tree` takes: for a source it returns whether
the plan lists it, its instrumentation status, and whether its telemetry breaks the plan beyond
the tolerances. The tree then shows ``Needs data`` for a node whose source is only ``planned``
or whose telemetry fails the plan, even when rows arrive.

>>> from otel_impact.config.contract import TrackingPlan
>>> mark = tree_marks(TrackingPlan.model_validate({"events": {"business.refund": {"status": "planned"}}}))
>>> mark("event", "business.refund"), mark("event", "business.purchase"), mark("metric", "cpu")
(TreeMark(note='planned', usable=False), TreeMark(note='not in plan', usable=True), None)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from otel_impact import semconv
from otel_impact.config.contract import TrackingPlan

if TYPE_CHECKING:
    from otel_impact.plan.check import PlanReport


@dataclass(frozen=True)
class TreeMark:
    """``note`` shown next to the node's status; ``usable=False`` makes the node ``Needs data``."""

    note: str
    usable: bool


def tree_marks(plan: TrackingPlan, report: PlanReport | None = None) -> Callable[[str, str], TreeMark | None]:
    """A ``(source kind, name) -> TreeMark | None`` lookup (``None`` for kinds the plan does not cover)."""
    failing: dict[str, int] = {}
    if report is not None:
        exceeded = set(report.exceeded())
        for v in report.violations:
            if v.kind in exceeded:
                failing[v.entry] = failing.get(v.entry, 0) + v.count

    def mark(kind: str, name: str) -> TreeMark | None:
        if kind == "event":
            entry, label = plan.events.get(name), name
        elif kind == "model":
            entry, label = plan.predictions.get(name), semconv.prediction_span_name(name)
        else:
            return None
        if plan.empty:
            return None
        if entry is None:
            return TreeMark("not in plan", True)
        if label in failing:
            return TreeMark(f"{failing[label]} plan violation(s)", False)
        if entry.status == "planned":
            return TreeMark("planned", False)
        return TreeMark(entry.status, True)

    return mark


__all__ = ["TreeMark", "tree_marks"]
