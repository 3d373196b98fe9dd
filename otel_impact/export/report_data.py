"""Report content shared by the HTML and Markdown reports and the terminal summary.

:func:`build_sections` turns a result document into a list of :class:`Section` (id, title,
tables, inline-SVG charts, notes). Every result key is optional: a missing or empty section
says "no data" instead of failing. The renderers only lay these out.

>>> [s.id for s in build_sections({})][:3]
['summary', 'model-vs-business', 'correlation']
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

from otel_impact import semconv as sc
from otel_impact.export import svg
from otel_impact.export.points import parse_time

# sections that draw at least one chart when they have data
CHART_SECTIONS = (
    "model-vs-business",
    "correlation",
    "attribution",
    "lift",
    "roi",
    "timeline",
    "kpi",
    "evaluation",
)


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]


@dataclass
class Section:
    id: str
    title: str
    tables: list[Table] = field(default_factory=list)
    charts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.tables or self.charts or self.notes)


def fmt(value: Any) -> str:
    """Human spelling of a result value (None/NaN → "–")."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "–"
        if abs(value) >= 1000:
            return f"{value:,.2f}".rstrip("0").rstrip(".")
        return f"{value:.4g}"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={fmt(v)}" for k, v in value.items()) or "all"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    return str(value)


def seg_label(segment: Any) -> str:
    return fmt(segment) if isinstance(segment, Mapping) and segment else "all users"


def _rows(result: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = result.get(key)
    return [r for r in value if isinstance(r, Mapping)] if isinstance(value, list) else []


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _ci(row: Mapping[str, Any]) -> tuple[float | None, float | None]:
    ci = row.get("ci")
    if isinstance(ci, list | tuple) and len(ci) >= 2:
        return _num(ci[0]), _num(ci[1])
    if isinstance(ci, Mapping):
        return _num(ci.get("low")), _num(ci.get("high"))
    return None, None


def generic_table(rows: Sequence[Mapping[str, Any]], limit: int = 50) -> Table:
    """All keys of a list of dicts as a table (nested values flattened to text)."""
    headers: list[str] = []
    for row in rows:
        for k in row:
            if k not in headers:
                headers.append(str(k))
    return Table(headers, [[fmt(row.get(h)) for h in headers] for row in rows[:limit]])


def _epoch(value: Any) -> float | None:
    try:
        return parse_time(value).timestamp()
    except (ValueError, TypeError):
        return None


def _normalise(values: Sequence[Any]) -> list[float | None]:
    nums = [_num(v) for v in values]
    finite = [v for v in nums if v is not None]
    if not finite:
        return nums
    lo, hi = min(finite), max(finite)
    return [None if v is None else ((v - lo) / (hi - lo) if hi > lo else 0.5) for v in nums]


def _series_by_name(result: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    out: dict[str, Mapping[str, Any]] = {}
    for row in _rows(result, "series"):
        if not row.get("segment") and row.get("name") not in out:
            out[str(row.get("name"))] = row
    return out


def _model_vs_business(result: Mapping[str, Any]) -> Section:
    sec = Section("model-vs-business", "Model vs business metric (best lag applied)")
    series = _series_by_name(result)
    best: dict[tuple[str, str], Mapping[str, Any]] = {}
    for row in _rows(result, "correlations"):
        if row.get("segment"):
            continue
        key = (str(row.get("model_metric")), str(row.get("business_metric")))
        est = _num(row.get("estimate"))
        if est is not None and (key not in best or abs(est) > abs(_num(best[key].get("estimate")) or 0)):
            best[key] = row
    pairs = [
        (m, b, _num(r.get("lag_s")) or 0.0, r) for (m, b), r in best.items() if m in series and b in series
    ]
    if not pairs:  # no correlations yet: show every model next to every business series, no lag
        models = [n for n, r in series.items() if r.get("kind") == "model"]
        business = [n for n, r in series.items() if r.get("kind") == "business"]
        pairs = [(m, b, 0.0, {}) for m in models[:3] for b in business[:3]]
    for m, b, lag, row in pairs[:6]:
        lines = []
        for name, shift in ((m, 0.0), (b, -lag)):
            s = series[name]
            xs = [(_epoch(t) or 0.0) + shift for t in s.get("buckets") or []]
            lines.append(
                (
                    f"{name}" + (f" shifted {lag / 3600:g}h" if shift else ""),
                    xs,
                    _normalise(s.get("values") or []),
                )
            )
        buckets = series[m].get("buckets") or [""]
        title = f"{m} vs {b} (normalised; business shifted back by lag {lag / 3600:g}h)"
        sec.charts.append(svg.line_chart(lines, title=title, x_labels=(str(buckets[0]), str(buckets[-1]))))
        sec.notes.append(
            f"{m} → {b}: r = {fmt(_num(row.get('estimate')))} at lag {lag / 3600:g}h"
            if row
            else f"{m} vs {b}"
        )
    return sec


def _correlation(result: Mapping[str, Any]) -> Section:
    sec = Section("correlation", "Correlation by segment")
    rows = _rows(result, "correlations")
    if rows:
        labels = [
            f"{r.get('model_metric')}→{r.get('business_metric')} · {seg_label(r.get('segment'))}"
            for r in rows
        ]
        sec.charts.append(
            svg.bar_chart(
                labels,
                [_num(r.get("estimate")) for r in rows],
                ci=[_ci(r) for r in rows],
                title="Correlation estimate with confidence interval",
            )
        )
        sec.tables.append(
            Table(
                [
                    "model metric",
                    "business metric",
                    "segment",
                    "lag (s)",
                    "method",
                    "estimate",
                    "CI",
                    "p-value",
                    "n",
                ],
                [
                    [
                        fmt(r.get("model_metric")),
                        fmt(r.get("business_metric")),
                        seg_label(r.get("segment")),
                        fmt(r.get("lag_s")),
                        fmt(r.get("method")),
                        fmt(r.get("estimate")),
                        fmt(list(_ci(r))),
                        fmt(r.get("pvalue")),
                        fmt(r.get("n")),
                    ]
                    for r in rows
                ],
            )
        )
    ranking = _rows(result, "segment_ranking")
    if ranking:
        sec.tables.append(generic_table(ranking))
    transfer = _rows(result, "transfer")
    if transfer:
        sec.tables.append(generic_table(transfer))
    return sec


def _attribution(result: Mapping[str, Any]) -> Section:
    sec = Section("attribution", "Attribution by model and version")
    rows = _rows(result, "attribution")
    if rows:
        labels = [
            f"{r.get('model')} · {r.get(sc.ML_MODEL_NAME)} v{r.get(sc.ML_MODEL_VERSION)}"
            + (f" · {seg_label(r.get('segment'))}" if r.get("segment") else "")
            for r in rows
        ]
        sec.charts.append(
            svg.bar_chart(labels, [_num(r.get("value")) for r in rows], title="Attributed value")
        )
        sec.tables.append(
            Table(
                ["business metric", "attribution model", "model", "version", "segment", "value", "credit"],
                [
                    [
                        fmt(r.get("business_metric")),
                        fmt(r.get("model")),
                        fmt(r.get(sc.ML_MODEL_NAME)),
                        fmt(r.get(sc.ML_MODEL_VERSION)),
                        seg_label(r.get("segment")),
                        fmt(r.get("value")),
                        fmt(r.get("credit")),
                    ]
                    for r in rows
                ],
            )
        )
    stitching = _rows(result, "stitching")
    if stitching:
        sec.tables.append(generic_table(stitching))
    return sec


def _lift(result: Mapping[str, Any]) -> Section:
    sec = Section("lift", "Lift with confidence intervals")
    rows = _rows(result, "lift")
    if rows:
        labels = [
            f"{r.get('metric')}: {fmt(r.get('treatment'))} vs {fmt(r.get('control'))} · {seg_label(r.get('segment'))}"
            for r in rows
        ]
        sec.charts.append(
            svg.bar_chart(
                labels,
                [_num(r.get("estimate")) for r in rows],
                ci=[_ci(r) for r in rows],
                title="Lift estimate with confidence interval",
            )
        )
        sec.tables.append(
            Table(
                ["metric", "treatment", "control", "segment", "method", "estimate", "CI", "p-value", "n"],
                [
                    [
                        fmt(r.get("metric")),
                        fmt(r.get("treatment")),
                        fmt(r.get("control")),
                        seg_label(r.get("segment")),
                        fmt(r.get("method")),
                        fmt(r.get("estimate")),
                        fmt(list(_ci(r))),
                        fmt(r.get("pvalue")),
                        fmt(r.get("n")),
                    ]
                    for r in rows
                ],
            )
        )
    return sec


def _roi(result: Mapping[str, Any]) -> Section:
    sec = Section("roi", "ROI by model version")
    rows = _rows(result, "roi")
    if rows:
        labels = [f"{r.get(sc.ML_MODEL_NAME)} v{r.get(sc.ML_MODEL_VERSION)}" for r in rows]
        sec.charts.append(svg.bar_chart(labels, [_num(r.get("roi_pct")) for r in rows], title="ROI (%)"))
        sec.tables.append(generic_table(rows))
    return sec


def _timeline(result: Mapping[str, Any]) -> Section:
    sec = Section("timeline", "Alerts and incidents timeline")
    alerts, incidents = _rows(result, "alerts"), _rows(result, "incidents")
    window = result.get("window") or {}
    marks: list[tuple[float, str, str]] = []
    for a in alerts:
        t = _epoch(a.get("at"))
        if t is not None:
            color = (
                "#dc3912"
                if str(a.get("severity", "")).lower() in ("critical", "error", "high")
                else "#ff9900"
            )
            marks.append((t, f"alert {a.get('rule')}: {a.get('message', '')}", color))
    for inc in incidents:
        anomaly = inc.get("anomaly") or {}
        t = _epoch(anomaly.get("start") or anomaly.get("end"))
        if t is not None:
            linked = inc.get("linked") or []
            cause = (
                f" ← {linked[0].get(sc.PIPELINE_NAME, '?')}"
                if linked and isinstance(linked[0], Mapping)
                else ""
            )
            marks.append((t, f"incident {anomaly.get('metric')}{cause}", "#990099"))
    if marks:
        start = _epoch(window.get("start")) or min(m[0] for m in marks)
        end = _epoch(window.get("end")) or max(m[0] for m in marks)
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


def _kpi_rows(kpi: Any) -> list[Mapping[str, Any]]:
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


def _kpi(result: Mapping[str, Any]) -> Section:
    sec = Section("kpi", "KPI before and after")
    rows = _kpi_rows(result.get("kpi"))
    if not rows:
        return sec
    labels, values = [], []
    for r in rows:
        name = str(r.get("metric") or r.get("name") or r.get("kpi") or "?")
        pre = next((_num(r.get(k)) for k in _PRE if _num(r.get(k)) is not None), None)
        post = next((_num(r.get(k)) for k in _POST if _num(r.get(k)) is not None), None)
        if pre is not None and post is not None:
            labels += [f"{name} pre", f"{name} post"]
            values += [pre, post]
    if labels:
        sec.charts.append(svg.bar_chart(labels, values, title="KPI pre / post"))
    sec.tables.append(generic_table(rows))
    return sec


def _evaluation(result: Mapping[str, Any]) -> Section:
    sec = Section("evaluation", "Evaluation matrix")
    rows = _rows(result, "evaluation")
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


def _data_quality(result: Mapping[str, Any]) -> Section:
    sec = Section("data-quality", "Data quality and freshness")
    for key in ("data_quality", "freshness"):
        value = result.get(key)
        rows = _kpi_rows(value) if not isinstance(value, list) else _rows(result, key)
        if rows:
            sec.tables.append(generic_table(rows))
    return sec


def _summary(result: Mapping[str, Any]) -> Section:
    sec = Section("summary", "Summary")
    window = result.get("window") or {}
    run = result.get("run") or {}
    counts = [
        ("window", f"{window.get('start', '–')} .. {window.get('end', '–')}"),
        ("run", str(run.get("id", "–"))),
    ]
    for key in ("correlations", "attribution", "lift", "roi", "alerts", "incidents", "evaluation"):
        counts.append((key, str(len(_rows(result, key)))))
    sec.tables.append(Table(["item", "value"], [[k, v] for k, v in counts]))
    counts: dict[str, int] = {}
    for w in result.get("warnings") or []:
        counts[str(w)] = counts.get(str(w), 0) + 1
    for i, (w, n) in enumerate(counts.items()):
        if i == 12:
            sec.notes.append(f"… and {len(counts) - 12} more distinct warning(s)")
            break
        sec.notes.append(f"warning: {w}" + (f" (×{n})" if n > 1 else ""))
    return sec


def build_sections(result: Mapping[str, Any]) -> list[Section]:
    """Every report section in display order (empty ones render as "no data")."""
    return [
        _summary(result),
        _model_vs_business(result),
        _correlation(result),
        _attribution(result),
        _lift(result),
        _roi(result),
        _timeline(result),
        _kpi(result),
        _evaluation(result),
        _data_quality(result),
    ]
