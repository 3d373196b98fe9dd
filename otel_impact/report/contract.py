"""Report sections of the telemetry contract: tracking plan, deployment trail and SLOs.

Each builder takes the :class:`~otel_impact.records.Result` and returns a :class:`Section`; a
section the run did not produce gives an empty section (rendered as "no data").

>>> from otel_impact.records import Result
>>> empty = Result.from_json({"window": {"start": "2026-11-01T00:00:00Z", "end": "2026-11-02T00:00:00Z"}})
>>> [s.id for s in contract_sections(empty)]
['tracking-plan', 'deployments', 'slos']
"""

from __future__ import annotations

from otel_impact.records import Result, TrafficPhase
from otel_impact.report import svg
from otel_impact.report.base import (
    Section,
    Table,
    fmt,
    fmt_fields,
    fmt_int,
    fmt_pct,
    fmt_time,
    model_label,
    num,
    version_label,
)


def tracking_plan_section(result: Result) -> Section:
    sec = Section("tracking-plan", "Tracking plan conformance")
    plan = result.tracking_plan
    if plan is None:
        return sec
    sec.notes.append("tracking plan: " + ("OK" if plan.ok else "FAILED (violations above tolerance)"))
    for p in plan.plan_problems:
        sec.notes.append(f"plan problem at {p.path}: {p.message}")
    rows = [
        [k, fmt(v.count), fmt(v.tolerance), "FAIL" if v.exceeded else "ok"]
        for k, v in plan.summary.items()
        if v.count
    ]
    if rows:
        sec.tables.append(Table(["check", "violations", "tolerance", "verdict"], rows))
    if plan.violations:
        table = []
        for v in plan.violations[:50]:
            # the first example's fields that have a value, in record order
            ex = v.examples[0].model_dump() if v.examples else {}
            table.append(
                [
                    *fmt_fields(v, "kind", "entry", "attribute", "count", "rows"),
                    ", ".join(f"{k}={fmt(x)}" for k, x in ex.items() if x is not None) or "–",
                ]
            )
        sec.tables.append(Table(["check", "event / span", "attribute", "count", "rows", "example"], table))
    if plan.entries:
        sec.tables.append(
            Table(
                ["entry", "status", "owner", "rows", "live", "last seen"],
                [
                    [*fmt_fields(e, "name", "status", "owner", "rows", "live"), fmt_time(e.last_seen)]
                    for e in plan.entries
                ],
            )
        )
    return sec


def _shares(phase: TrafficPhase) -> str:
    return ", ".join(f"{version_label(k)} {fmt_pct(v, signed=False)}" for k, v in phase.shares.items()) or "–"


def deployments_section(result: Result) -> Section:
    sec = Section("deployments", "Model deployments")
    deployments = result.deployments
    if deployments is None:
        return sec
    for m in deployments.models:
        model = fmt(m.model)
        xs = [b.timestamp() for b in m.traffic.buckets]
        lines = [(model_label(model, v), xs, [num(x) for x in ys]) for v, ys in m.traffic.shares.items()]
        if lines:
            sec.charts.append(
                svg.panels(
                    [svg.Panel("share", lines, percent=True)],
                    title=f"{model}: traffic share per version",
                )
            )
        sec.tables.append(
            Table(
                ["model", "version", "first seen", "last seen", "predictions"],
                [
                    [
                        model,
                        version_label(v.version),
                        fmt_time(v.first_seen),
                        fmt_time(v.last_seen),
                        fmt_int(v.predictions),
                    ]
                    for v in m.versions
                ],
            )
        )
        sec.tables.append(
            Table(
                ["model", "phase start", "phase end", "shares", "predictions"],
                [
                    [model, fmt_time(p.start), fmt_time(p.end), _shares(p), fmt_int(p.predictions)]
                    for p in m.phases
                ],
            )
        )
        rollout = m.rollout
        if rollout is not None:
            sec.notes.append(
                f"{model} {rollout.version}: rollout start {fmt_time(rollout.rollout_start)}, "
                f"majority {fmt_time(rollout.majority)}, complete {fmt_time(rollout.complete)} "
                f"(from {rollout.source})"
            )
    kpi = deployments.kpi_rollout
    if kpi is not None:
        used = "used as" if kpi.applied else "configured kpi.rollout kept; trail suggests"
        sec.notes.append(f"KPI pre/post boundary: {used} {fmt_time(kpi.at)} ({kpi.model} {kpi.version})")
    return sec


def slos_section(result: Result) -> Section:
    sec = Section("slos", "SLOs and error budgets")
    if not result.slos:
        return sec
    table = []
    for r in result.slos:
        burns = ", ".join(
            f"{w.window}: {fmt(w.burn_long)}" + (" FIRING" if w.firing else "") for w in r.windows
        )
        fired = sum(1 for a in r.alerts if a.state == "firing")
        table.append(
            [
                fmt(r.name),
                fmt(r.model_name or r.pipeline),
                fmt(r.sli),
                fmt(r.objective),
                fmt(r.estimate),
                fmt(r.budget_remaining),
                burns or "–",
                fmt(fired),
            ]
        )
    sec.tables.append(
        Table(
            [
                "SLO",
                "target",
                "SLI",
                "objective",
                "measured",
                "budget left",
                "burn rate (long window)",
                "alerts",
            ],
            table,
        )
    )
    return sec


def contract_sections(result: Result) -> list[Section]:
    """The three contract sections in display order."""
    return [tracking_plan_section(result), deployments_section(result), slos_section(result)]


__all__ = ["contract_sections", "deployments_section", "slos_section", "tracking_plan_section"]
