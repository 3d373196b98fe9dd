"""Report sections about operations and decisions: alert/incident timeline, KPI pre/post,
evaluation matrix, data quality and freshness (see :mod:`otel_impact.report.data`)."""

from __future__ import annotations

from html import escape

from otel_impact import semconv as sc
from otel_impact.records import Alert, DataQuality, Result
from otel_impact.report import svg
from otel_impact.report.base import (
    Section,
    Table,
    fmt,
    fmt_duration,
    fmt_int,
    fmt_num,
    fmt_p,
    fmt_pct,
    fmt_time,
    num,
    seg_label,
)

_SEVERITY_ORDER = {"critical": 0, "error": 0, "high": 0, "warning": 1, "warn": 1, "info": 2}
_LANE_COLOR = {"critical": "#c62828", "incident": "#7b1fa2", "warning": "#ef6c00", "resolved": "#9e9e9e"}


def sort_alerts(alerts: list[Alert]) -> list[Alert]:
    """Firing before resolved, then by severity (critical first), then by time."""
    return sorted(
        alerts,
        key=lambda a: (a.state != "firing", _SEVERITY_ORDER.get(a.severity.lower(), 1), a.at),
    )


def _lane(a: Alert) -> str:
    if a.state == "resolved":
        return "resolved"
    sev = a.severity.lower()
    return (
        "critical"
        if _SEVERITY_ORDER.get(sev, 1) == 0
        else "warning"
        if sev in ("warning", "warn")
        else "resolved"
    )


def _short_alert(a: Alert) -> str:
    attrs = a.attributes
    key, value = attrs.get(sc.IMPACT_SEGMENT_KEY), attrs.get(sc.IMPACT_SEGMENT_VALUE)
    where = f"{key}={value}" if key else ""
    label = a.rule.replace("_", " ")
    metric = attrs.get(sc.IMPACT_BUSINESS_METRIC) or attrs.get("metric")
    return " ".join(x for x in (label, str(metric or ""), where) if x)


def timeline_section(result: Result) -> Section:
    sec = Section("timeline", "Alerts and incidents timeline")
    alerts, incidents = result.alerts, result.incidents
    marks: list[tuple[float, str, str, str]] = []
    seen: set[str] = set()
    for a in sort_alerts(alerts):
        t = a.at.timestamp()
        lane = _lane(a)
        label = _short_alert(a)
        # the same alert again (another bucket, another burn window): a dot without a label
        shown = "" if lane == "resolved" or label in seen else label  # each label once per chart
        marks.append((t, lane, shown, _LANE_COLOR[lane]))
        seen.add(label)
    for inc in incidents:
        anomaly = inc.anomaly
        cause = f" ← {inc.linked[0].pipeline}" if inc.linked else ""
        label = f"{anomaly.metric} {anomaly.direction}{cause}"
        marks.append(
            (anomaly.start.timestamp(), "incident", "" if label in seen else label, _LANE_COLOR["incident"])
        )
        seen.add(label)
    final = marks
    if final:
        start, end = result.window.start.timestamp(), result.window.end.timestamp()
        lanes = [x for x in ("critical", "incident", "warning", "resolved") if any(m[1] == x for m in final)]
        sec.charts.append(
            svg.timeline(lanes, final, start, end, title="Alerts and incidents over the window")
        )
    if alerts:
        ordered = sort_alerts(alerts)
        sec.tables.append(
            Table(
                ["severity", "state", "at", "rule", "message"],
                [
                    [
                        a.severity.upper() if a.state == "firing" else "resolved",
                        a.state,
                        fmt_time(a.at),
                        fmt(a.rule),
                        fmt(a.message),
                    ]
                    for a in ordered
                ],
                caption="Alerts: firing first, critical first, then by time",
            )
        )
    if incidents:
        sec.tables.append(
            Table(
                ["metric", "segment", "start", "end", "change", "linked upstream events (score)"],
                [
                    [
                        fmt(i.anomaly.metric),
                        seg_label(i.anomaly.segment),
                        fmt_time(i.anomaly.start),
                        fmt_time(i.anomaly.end),
                        fmt_num(i.anomaly.magnitude),
                        "; ".join(
                            f"{r.pipeline} {r.change or r.status or ''} on {r.dataset} ({fmt_num(r.score)})"
                            for r in i.linked[:3]
                        )
                        or "–",
                    ]
                    for i in incidents
                ],
                caption="Incidents",
            )
        )
    return sec


def kpi_section(result: Result) -> Section:
    sec = Section("kpi", "KPI before and after the rollout")
    kpi = result.kpi
    if kpi is None or not kpi.rows:
        return sec
    if kpi.rollout:
        sec.notes.append(f"Rollout boundary: {fmt_time(kpi.rollout)}. Change = mean after / mean before − 1.")
    labels, values = [], []
    table = []
    for r in kpi.rows:
        name = r.metric or "?"
        pre, post = num(r.pre), num(r.post)
        pct = num(r.change_pct)
        if pct is None and pre and post is not None:
            pct = 100.0 * (post / pre - 1.0)
        if pre is not None and pct is not None:
            labels.append(name)
            values.append(pct / 100.0)
        if pre is None:
            continue  # lift / ROI rows: shown in their own sections
        table.append(
            [
                name,
                fmt_num(pre),
                fmt_num(post),
                fmt_pct(pct, scale=1) if pct is not None else "–",
                fmt_p(r.pvalue),
                f"{fmt_int(r.n_pre)} / {fmt_int(r.n_post)}" if r.n_pre is not None else "–",
            ]
        )
    if labels:
        sec.charts.append(
            svg.bar_chart(
                labels,
                values,
                percent=True,
                title="KPI change after the rollout",
                axis_label="change of the bucket mean after the rollout vs before, %",
            )
        )
    sec.tables.append(
        Table(
            [
                "KPI",
                "before (mean)",
                "after (mean)",
                "change",
                "p (Welch, buckets)",
                "buckets before / after",
            ],
            table,
        )
    )
    return sec


def evaluation_section(result: Result) -> Section:
    sec = Section("evaluation", "Evaluation matrix")
    rows = result.evaluation or []
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
        cells.setdefault(r.decision, []).append(r.feature)
    w, h, left, top = 560, 300, 110, 24
    quad = [
        ("ship", 1, 0, "#d9f2d9"),
        ("iterate_ux", 1, 1, "#fff2cc"),
        ("fix_model", 0, 0, "#fde2d2"),
        ("both", 0, 1, "#f8d0d0"),
    ]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" role="img" aria-label="Evaluation matrix"><title>Evaluation matrix</title>',
        f'<text class="tick-x" x="{left + 107}" y="{h - 8}" text-anchor="middle" font-size="11">online passes</text>',
        f'<text class="tick-x" x="{left + 327}" y="{h - 8}" text-anchor="middle" font-size="11">online fails</text>',
        f'<text class="tick-y" x="{left - 8}" y="{top + 60}" text-anchor="end" font-size="11">offline passes</text>',
        f'<text class="tick-y" x="{left - 8}" y="{top + 178}" text-anchor="end" font-size="11">offline fails</text>',
    ]
    for key, row, col, color in quad:
        x, y = left + col * 220, top + (1 - row) * 118
        parts.append(
            f'<rect x="{x}" y="{y}" width="214" height="112" fill="{color}" stroke="#999"/>'
            f'<text class="label" x="{x + 6}" y="{y + 16}" font-size="12" font-weight="bold">'
            f"{escape(key.replace('_', ' '))}</text>"
        )
        names = cells.get(key, [])
        for j, name in enumerate(names[:5]):
            parts.append(f'<text x="{x + 6}" y="{y + 34 + 14 * j}" font-size="11">{escape(name)}</text>')
        if len(names) > 5:
            parts.append(f'<text x="{x + 6}" y="{y + 104}" font-size="11">and {len(names) - 5} more</text>')
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
                    fmt(r.feature),
                    fmt(r.offline.metric),
                    fmt(r.offline.value),
                    fmt(r.offline.threshold),
                    fmt(r.online.metric),
                    fmt(r.online.value),
                    fmt(r.online.threshold),
                    fmt(r.action or r.decision),
                ]
                for r in rows
            ],
        )
    )
    return sec


def data_quality_section(result: Result) -> Section:
    sec = Section("data-quality", "Data quality and freshness")
    rows = result.data_quality
    if rows:
        refs = {r.reference for r in rows}
        if len(refs) == 1:
            ref = rows[0].reference
            sec.notes.append(
                f"Drift reference: {fmt_time(ref.start)} .. {fmt_time(ref.end)} "
                f"({fmt_int(ref.n)} predictions). PSI above 0.2 or a KS p below 0.001 counts as drift."
            )
        sec.tables.append(
            Table(
                [
                    "model",
                    "bucket",
                    "predictions",
                    "PSI",
                    "KS statistic",
                    "new feature hashes",
                    "missing",
                    "verdict",
                ],
                [
                    [
                        model_or_dash(r),
                        fmt_time(r.bucket),
                        fmt_int(r.n),
                        fmt_num(r.psi),
                        f"{fmt_num(r.ks.estimate)} (p {fmt_p(r.ks.pvalue)})" if r.ks is not None else "–",
                        fmt_pct(r.novelty, signed=False),
                        fmt_pct(r.missing_rate, signed=False),
                        "DRIFT" if r.drift else "ok",
                    ]
                    for r in rows
                ],
                caption="Score and feature drift per bucket",
            )
        )
    if result.freshness:
        sec.tables.append(
            Table(
                [
                    "pipeline",
                    "schedule",
                    "last run",
                    "next expected",
                    "runs",
                    "late",
                    "missing",
                    "status",
                ],
                [
                    [
                        fmt(r.pipeline),
                        fmt_duration(r.schedule_s),
                        fmt_time(r.last_run),
                        fmt_time(r.expected),
                        fmt_int(r.runs),
                        fmt_int(r.late),
                        fmt_int(r.missing),
                        fmt(r.status),
                    ]
                    for r in result.freshness
                ],
                caption="Pipeline freshness",
            )
        )
    return sec


def model_or_dash(r: DataQuality) -> str:
    return r.model_name or "–"
