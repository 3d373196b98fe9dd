"""Tracking-plan stage: the stored telemetry of the window against ``tracking_plan``.

Writes ``result["tracking_plan"]`` (see :func:`otel_impact.plan.check.check_store`: ``ok``,
``plan_problems``, ``summary`` per check kind with count / tolerance / exceeded,
``violations`` with examples, ``entries`` with rows and ``live`` per planned event/model) and,
when a check kind exceeds its tolerance, one ``tracking_plan`` warning alert per kind. Skipped
when the plan is empty or ``tracking_plan.enabled`` is false. A relative ``tracking_plan.file``
is read from the working directory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from otel_impact.plan.check import check_store
from otel_impact.plan.validate import load_plan
from otel_impact.records import make_alert
from otel_impact.stages.graph import Stage

if TYPE_CHECKING:
    from otel_impact.context import JobContext

CACHE_KEY = "tracking_plan"


def run(ctx: JobContext) -> None:
    """Check the window's telemetry against the tracking plan."""
    section = ctx.config.tracking_plan
    if not section.enabled or (section.empty and section.file is None):
        return
    plan = load_plan(section)
    report = check_store(ctx.client, plan, ctx.window.start, ctx.window.end)
    ctx.cache[CACHE_KEY] = report
    ctx.result["tracking_plan"] = report.to_json()
    for problem in report.problems:
        ctx.warn(f"tracking plan: {problem.path}: {problem.message}")
    totals = report.totals()
    alerts = ctx.result.setdefault("alerts", [])
    for kind in report.exceeded():
        entries = sorted({v.entry for v in report.violations if v.kind == kind})
        alerts.append(
            make_alert(
                "tracking_plan",
                severity="warning",
                state="firing",
                at=ctx.window.end,
                message=f"tracking plan: {totals[kind]} {kind} violation(s) "
                f"(tolerance {plan.tolerances.of(kind)}) in {', '.join(entries[:5])}",
                attributes={"check": kind},
            )
        )


TRACKING_PLAN = Stage(
    "tracking_plan",
    run,
    gives=frozenset({"cache.tracking_plan", "result.tracking_plan"}),
    adds=frozenset({"result.alerts"}),
)

__all__ = ["CACHE_KEY", "TRACKING_PLAN", "run"]
