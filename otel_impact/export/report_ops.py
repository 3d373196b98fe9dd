"""Report sections about operations and decisions: alert/incident timeline, KPI pre/post,
evaluation matrix, data quality and freshness (see :mod:`otel_impact.export.report_data`)."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from otel_impact import semconv as sc
from otel_impact.export import svg
from otel_impact.export.report_base import Section, Table, epoch, fmt, generic_table, num, rows_of, seg_label


def timeline_section(result: Mapping[str, Any]) -> Section:
    sec = Section("timeline", "Alerts and incidents timeline")
    alerts, incidents = rows_of(result, "alerts"), rows_of(result, "incidents")
    window = result.get("window") or {}
    marks: list[tuple[float, str, str]] = []
    for a in alerts:
        t = epoch(a.get("at"))
        if t is not None:
            color = (
                "#dc3912"
                if str(a.get("severity", "")).lower() in ("critical", "error", "high")
                else "#ff9900"
            )
            marks.append((t, f"alert {a.get('rule')}: {a.get('message', '')}", color))
    for inc in incidents:
        anomaly = inc.get("anomaly") or {}
        t = epoch(anomaly.get("start") or anomaly.get("end"))
        if t is not None:
            linked = inc.get("linked") or []
            cause = (
                f" ← {linked[0].get(sc.PIPELINE_NAME, '?')}"
                if linked and isinstance(linked[0], Mapping)
                else ""
            )
            marks.append((t, f"incident {anomaly.get('metric')}{cause}", "#990099"))
    if marks:
        start = epoch(window.get("start")) or min(m[0] for m in marks)
        end = epoch(window.get("end")) or max(m[0] for m in marks)
        marks.sort()
        sec.charts.append(
            svg.timeline(
                marks,
                start,
                end,
                title="Alerts and incidents",
                x_labels=(str(window.get("start", "")), str(window.get("end", ""))),
            )
        )
    if alerts:
        sec.tables.append(
            Table(
                ["at", "rule", "severity", "message"],
                [
                    [fmt(a.get("at")), fmt(a.get("rule")), fmt(a.get("severity")), fmt(a.get("message"))]
                    for a in alerts
                ],
            )
        )
    if incidents:
        sec.tables.append(
            Table(
                ["metric", "segment", "start", "end", "magnitude", "linked pipeline events"],
                [
                    [
                        fmt((i.get("anomaly") or {}).get("metric")),
                        seg_label((i.get("anomaly") or {}).get("segment")),
                        fmt((i.get("anomaly") or {}).get("start")),
                        fmt((i.get("anomaly") or {}).get("end")),
                        fmt((i.get("anomaly") or {}).get("magnitude")),
                        "; ".join(
                            f"{r.get(sc.PIPELINE_NAME, '?')}/{r.get(sc.DATASET_NAME, '?')} ({fmt(r.get('score'))})"
                            for r in (i.get("linked") or [])
                            if isinstance(r, Mapping)
                        )
                        or "–",
                    ]
                    for i in incidents
                ],
            )
        )
    return sec


_PRE = ("pre", "before", "baseline")
_POST = ("post", "after", "current")


def _kpirows_of(kpi: Any) -> list[Mapping[str, Any]]:
    if isinstance(kpi, list):
        return [r for r in kpi if isinstance(r, Mapping)]
    if isinstance(kpi, Mapping):
        for key in ("rows", "table", "metrics"):
            if isinstance(kpi.get(key), list):
                return [r for r in kpi[key] if isinstance(r, Mapping)]
        rows: list[Mapping[str, Any]] = []
        for name, value in kpi.items():
            if isinstance(value, Mapping):
                rows.append({"metric": name, **value})
        return rows
    return []


def kpi_section(result: Mapping[str, Any]) -> Section:
    sec = Section("kpi", "KPI before and after")
    rows = _kpirows_of(result.get("kpi"))
    if not rows:
        return sec
    labels, values = [], []
    for r in rows:
        name = str(r.get("metric") or r.get("name") or r.get("kpi") or "?")
        pre = next((num(r.get(k)) for k in _PRE if num(r.get(k)) is not None), None)
        post = next((num(r.get(k)) for k in _POST if num(r.get(k)) is not None), None)
        if pre is not None and post is not None:
            labels += [f"{name} pre", f"{name} post"]
            values += [pre, post]
    if labels:
        sec.charts.append(svg.bar_chart(labels, values, title="KPI pre / post"))
    sec.tables.append(generic_table(rows))
    return sec


def evaluation_section(result: Mapping[str, Any]) -> Section:
    sec = Section("evaluation", "Evaluation matrix")
    rows = rows_of(result, "evaluation")
    if not rows:
        return sec
    cells: dict[str, list[str]] = {
        "ship": [],
        "iterate_ux": [],
        "fix_model": [],
        "both": [],
        "needs_data": [],
    }
    for r in rows:
        cells.setdefault(str(r.get("decision")), []).append(str(r.get("feature")))
    w, h = 480, 260
    quad = [
        ("ship", 1, 0, "#d9f2d9"),
        ("iterate_ux", 1, 1, "#fff2cc"),
        ("fix_model", 0, 0, "#fde2d2"),
        ("both", 0, 1, "#f8d0d0"),
    ]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" role="img" aria-label="Evaluation matrix"><title>Evaluation matrix</title>',
        f'<text x="{w / 2}" y="14" text-anchor="middle" font-size="11">online passes / online fails</text>',
        '<text x="10" y="140" font-size="11" transform="rotate(-90 10 140)" text-anchor="middle">'
        "offline fails / passes</text>",
    ]
    for key, row, col, color in quad:
        x, y = 30 + col * 220, 22 + (1 - row) * 118
        parts.append(
            f'<rect x="{x}" y="{y}" width="214" height="112" fill="{color}" stroke="#999"/>'
            f'<text x="{x + 6}" y="{y + 16}" font-size="12" font-weight="bold">{escape(key)}</text>'
        )
        for j, name in enumerate(cells.get(key, [])[:5]):
            parts.append(f'<text x="{x + 6}" y="{y + 34 + 14 * j}" font-size="11">{escape(name[:30])}</text>')
    parts.append("</svg>")
    sec.charts.append("".join(parts))
    sec.tables.append(
        Table(
            [
                "feature",
                "offline metric",
                "offline",
                "threshold",
                "online metric",
                "online",
                "threshold",
                "decision",
            ],
            [
                [
                    fmt(r.get("feature")),
                    fmt((r.get("offline") or {}).get("metric")),
                    fmt((r.get("offline") or {}).get("value")),
                    fmt((r.get("offline") or {}).get("threshold")),
                    fmt((r.get("online") or {}).get("metric")),
                    fmt((r.get("online") or {}).get("value")),
                    fmt((r.get("online") or {}).get("threshold")),
                    fmt(r.get("action") or r.get("decision")),
                ]
                for r in rows
            ],
        )
    )
    return sec


def data_quality_section(result: Mapping[str, Any]) -> Section:
    sec = Section("data-quality", "Data quality and freshness")
    for key in ("data_quality", "freshness"):
        value = result.get(key)
        rows = _kpirows_of(value) if not isinstance(value, list) else rows_of(result, key)
        if rows:
            sec.tables.append(generic_table(rows))
    return sec
