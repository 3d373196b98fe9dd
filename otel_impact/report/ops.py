"""Report sections about operations and decisions: alert/incident timeline, KPI pre/post,
evaluation matrix, data quality and freshness (see :mod:`otel_impact.report.data`)."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from otel_impact import semconv as sc
from otel_impact.report import svg
from otel_impact.report.base import (
    Section,
    Table,
    epoch,
    fmt,
    fmt_duration,
    fmt_int,
    fmt_num,
    fmt_p,
    fmt_pct,
    fmt_time,
    generic_table,
    num,
    rows_of,
    seg_label,
)

_SEVERITY_ORDER = {"critical": 0, "error": 0, "high": 0, "warning": 1, "warn": 1, "info": 2}
_LANE_COLOR = {"critical": "#c62828", "incident": "#7b1fa2", "warning": "#ef6c00", "resolved": "#9e9e9e"}


def sort_alerts(alerts: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Firing before resolved, then by severity (critical first), then by time."""
    return sorted(
        alerts,
        key=lambda a: (
            a.get("state", "firing") != "firing",
            _SEVERITY_ORDER.get(str(a.get("severity", "warning")).lower(), 1),
            str(a.get("at") or ""),
        ),
    )


def alert_state(a: Mapping[str, Any]) -> str:
    state = str(a.get("state", "firing"))
    return "resolved" if state == "resolved" else state


def _lane(a: Mapping[str, Any]) -> str:
    if a.get("state", "firing") == "resolved":
        return "resolved"
    sev = str(a.get("severity", "warning")).lower()
    return (
        "critical"
        if _SEVERITY_ORDER.get(sev, 1) == 0
        else "warning"
        if sev in ("warning", "warn")
        else "resolved"
    )


def _short_alert(a: Mapping[str, Any]) -> str:
    attrs = a.get("attributes") or {}
    key, value = attrs.get(sc.IMPACT_SEGMENT_KEY), attrs.get(sc.IMPACT_SEGMENT_VALUE)
    where = f"{key}={value}" if key else ""
    label = str(a.get("rule", "alert")).replace("_", " ")
    metric = attrs.get(sc.IMPACT_BUSINESS_METRIC) or attrs.get("metric")
    return " ".join(x for x in (label, str(metric or ""), where) if x)


def timeline_section(result: Mapping[str, Any]) -> Section:
    sec = Section("timeline", "Alerts and incidents timeline")
    alerts, incidents = rows_of(result, "alerts"), rows_of(result, "incidents")
    window = result.get("window") or {}
    marks: list[tuple[float, str, str, str]] = []
    seen: set[str] = set()
    for a in sort_alerts(alerts):
        t = epoch(a.get("at"))
        if t is None:
            continue
        lane = _lane(a)
        label = _short_alert(a)
        # the same alert again (another bucket, another burn window): a dot without a label
        shown = "" if lane == "resolved" or label in seen else label  # each label once per chart
        marks.append((t, lane, shown, _LANE_COLOR[lane]))
        seen.add(label)
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
            label = f"{anomaly.get('metric')} {anomaly.get('direction', 'change')}{cause}"
            marks.append((t, "incident", "" if label in seen else label, _LANE_COLOR["incident"]))
            seen.add(label)
    final = marks
    if final:
        start = epoch(window.get("start")) or min(m[0] for m in final)
        end = epoch(window.get("end")) or max(m[0] for m in final)
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
                        str(a.get("severity", "warning")).upper()
                        if a.get("state", "firing") == "firing"
                        else "resolved",
                        alert_state(a),
                        fmt_time(a.get("at")),
                        fmt(a.get("rule")),
                        fmt(a.get("message")),
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
                        fmt((i.get("anomaly") or {}).get("metric")),
                        seg_label((i.get("anomaly") or {}).get("segment")),
                        fmt_time((i.get("anomaly") or {}).get("start")),
                        fmt_time((i.get("anomaly") or {}).get("end")),
                        fmt_num((i.get("anomaly") or {}).get("magnitude")),
                        "; ".join(
                            f"{r.get(sc.PIPELINE_NAME, '?')} {r.get('change') or r.get('status') or ''} "
                            f"on {r.get(sc.DATASET_NAME, '?')} ({fmt_num(r.get('score'))})"
                            for r in (i.get("linked") or [])[:3]
                            if isinstance(r, Mapping)
                        )
                        or "–",
                    ]
                    for i in incidents
                ],
                caption="Incidents",
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
    sec = Section("kpi", "KPI before and after the rollout")
    kpi = result.get("kpi")
    rows = _kpirows_of(kpi)
    if not rows:
        return sec
    if isinstance(kpi, Mapping) and kpi.get("rollout"):
        sec.notes.append(
            f"Rollout boundary: {fmt_time(kpi.get('rollout'))}. Change = mean after / mean before − 1."
        )
    labels, values = [], []
    table = []
    for r in rows:
        name = str(r.get("metric") or r.get("name") or r.get("kpi") or "?")
        pre = next((num(r.get(k)) for k in _PRE if num(r.get(k)) is not None), None)
        post = next((num(r.get(k)) for k in _POST if num(r.get(k)) is not None), None)
        pct = num(r.get("change_pct"))
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
                fmt_p(r.get("pvalue")),
                f"{fmt_int(r.get('n_pre'))} / {fmt_int(r.get('n_post'))}"
                if r.get("n_pre") is not None
                else "–",
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
    rows = rows_of(result, "data_quality")
    if rows:
        refs = {str(r.get("reference")) for r in rows if r.get("reference")}
        ref = rows[0].get("reference") if len(refs) == 1 else None
        if isinstance(ref, Mapping):
            sec.notes.append(
                f"Drift reference: {fmt_time(ref.get('start'))} .. {fmt_time(ref.get('end'))} "
                f"({fmt_int(ref.get('n'))} predictions). PSI above 0.2 or a KS p below 0.001 counts as drift."
            )
        if any("psi" in r or "ks" in r for r in rows):
            table = []
            for r in rows:
                ks = r.get("ks") if isinstance(r.get("ks"), Mapping) else {}
                table.append(
                    [
                        model_or_dash(r),
                        fmt_time(r.get("bucket")),
                        fmt_int(r.get("n")),
                        fmt_num(r.get("psi")),
                        f"{fmt_num(ks.get('estimate'))} (p {fmt_p(ks.get('pvalue'))})" if ks else "–",
                        fmt_pct(r.get("novelty"), signed=False) if r.get("novelty") is not None else "–",
                        fmt_pct(r.get("missing_rate"), signed=False)
                        if r.get("missing_rate") is not None
                        else "–",
                        "DRIFT" if r.get("drift") else "ok" if "drift" in r else "–",
                    ]
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
                    table,
                    caption="Score and feature drift per bucket",
                )
            )
        else:
            sec.tables.append(generic_table(rows))
    fresh = rows_of(result, "freshness")
    if fresh:
        if any("last_run" in r for r in fresh):
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
                            fmt(r.get(sc.PIPELINE_NAME)),
                            fmt_duration(r.get("schedule_s")),
                            fmt_time(r.get("last_run")),
                            fmt_time(r.get("expected")),
                            fmt_int(r.get("runs")),
                            fmt_int(r.get("late")),
                            fmt_int(r.get("missing")),
                            fmt(r.get("status")),
                        ]
                        for r in fresh
                    ],
                    caption="Pipeline freshness",
                )
            )
        else:
            sec.tables.append(generic_table(fresh))
    return sec


def model_or_dash(r: Mapping[str, Any]) -> str:
    return str(r.get(sc.ML_MODEL_NAME) or "–")
