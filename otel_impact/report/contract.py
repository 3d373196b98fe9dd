"""Report sections of the telemetry contract: tracking plan, deployment trail and SLOs.

Each builder takes the result document and returns a :class:`Section`; missing keys give an
empty section (rendered as "no data").

>>> [s.id for s in contract_sections({})]
['tracking-plan', 'deployments', 'slos']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from otel_impact import semconv as sc
from otel_impact.report import svg
from otel_impact.report.base import (
    Section,
    Table,
    epoch,
    fmt,
    fmt_fields,
    fmt_int,
    fmt_pct,
    fmt_time,
    model_label,
    num,
    rows_of,
    version_label,
)


def tracking_plan_section(result: Mapping[str, Any]) -> Section:
    sec = Section("tracking-plan", "Tracking plan conformance")
    doc = result.get("tracking_plan")
    if not isinstance(doc, Mapping):
        return sec
    sec.notes.append("tracking plan: " + ("OK" if doc.get("ok") else "FAILED (violations above tolerance)"))
    for p in rows_of(doc, "plan_problems"):
        sec.notes.append(f"plan problem at {p.get('path')}: {p.get('message')}")
    summary = doc.get("summary")
    if isinstance(summary, Mapping):
        rows = [
            [str(k), fmt(v.get("count")), fmt(v.get("tolerance")), "FAIL" if v.get("exceeded") else "ok"]
            for k, v in summary.items()
            if isinstance(v, Mapping) and v.get("count")
        ]
        if rows:
            sec.tables.append(Table(["check", "violations", "tolerance", "verdict"], rows))
    violations = rows_of(doc, "violations")
    if violations:
        table = []
        for v in violations[:50]:
            examples = v.get("examples") or []
            ex = examples[0] if examples and isinstance(examples[0], Mapping) else {}
            table.append(
                [
                    *fmt_fields(v, "kind", "entry", "attribute", "count", "rows"),
                    ", ".join(f"{k}={fmt(x)}" for k, x in ex.items()) or "–",
                ]
            )
        sec.tables.append(Table(["check", "event / span", "attribute", "count", "rows", "example"], table))
    entries = rows_of(doc, "entries")
    if entries:
        sec.tables.append(
            Table(
                ["entry", "status", "owner", "rows", "live", "last seen"],
                [
                    [*fmt_fields(e, "name", "status", "owner", "rows", "live"), fmt_time(e.get("last_seen"))]
                    for e in entries
                ],
            )
        )
    return sec


def _shares(shares: Any) -> str:
    if not isinstance(shares, Mapping):
        return fmt(shares)
    return ", ".join(f"{version_label(k)} {fmt_pct(v, signed=False)}" for k, v in shares.items()) or "–"


def deployments_section(result: Mapping[str, Any]) -> Section:
    sec = Section("deployments", "Model deployments")
    doc = result.get("deployments")
    if not isinstance(doc, Mapping):
        return sec
    for m in rows_of(doc, "models"):
        model = fmt(m.get("model"))
        raw = m.get("traffic")
        traffic: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        xs = [epoch(b) or 0.0 for b in traffic.get("buckets") or []]
        raw_shares = traffic.get("shares")
        shares: Mapping[str, Any] = raw_shares if isinstance(raw_shares, Mapping) else {}
        lines = [
            (model_label(model, v), xs, [num(x) for x in ys])
            for v, ys in shares.items()
            if isinstance(ys, list)
        ]
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
                        version_label(v.get("version")),
                        fmt_time(v.get("first_seen")),
                        fmt_time(v.get("last_seen")),
                        fmt_int(v.get("predictions")),
                    ]
                    for v in rows_of(m, "versions")
                ],
            )
        )
        sec.tables.append(
            Table(
                ["model", "phase start", "phase end", "shares", "predictions"],
                [
                    [
                        model,
                        fmt_time(p.get("start")),
                        fmt_time(p.get("end")),
                        _shares(p.get("shares")),
                        fmt_int(p.get("predictions")),
                    ]
                    for p in rows_of(m, "phases")
                ],
            )
        )
        rollout = m.get("rollout")
        if isinstance(rollout, Mapping):
            sec.notes.append(
                f"{model} {rollout.get('version')}: rollout start {fmt_time(rollout.get('rollout_start'))}, "
                f"majority {fmt_time(rollout.get('majority'))}, complete {fmt_time(rollout.get('complete'))} "
                f"(from {rollout.get('source')})"
            )
    kpi = doc.get("kpi_rollout")
    if isinstance(kpi, Mapping):
        used = "used as" if kpi.get("applied") else "configured kpi.rollout kept; trail suggests"
        sec.notes.append(
            f"KPI pre/post boundary: {used} {fmt_time(kpi.get('at'))} ({kpi.get('model')} {kpi.get('version')})"
        )
    return sec


def slos_section(result: Mapping[str, Any]) -> Section:
    sec = Section("slos", "SLOs and error budgets")
    rows = rows_of(result, "slos")
    if not rows:
        return sec
    table = []
    for r in rows:
        target = r.get(sc.ML_MODEL_NAME) or r.get(sc.PIPELINE_NAME)
        burns = ", ".join(
            f"{w.get('window')}: {fmt(w.get('burn_long'))}" + (" FIRING" if w.get("firing") else "")
            for w in r.get("windows") or []
            if isinstance(w, Mapping)
        )
        fired = sum(1 for a in r.get("alerts") or [] if isinstance(a, Mapping) and a.get("state") == "firing")
        table.append(
            [
                fmt(r.get("name")),
                fmt(target),
                fmt(r.get("sli")),
                fmt(r.get("objective")),
                fmt(r.get("estimate")),
                fmt(r.get("budget_remaining")),
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


def contract_sections(result: Mapping[str, Any]) -> list[Section]:
    """The three contract sections in display order."""
    return [tracking_plan_section(result), deployments_section(result), slos_section(result)]


__all__ = ["contract_sections", "deployments_section", "slos_section", "tracking_plan_section"]
