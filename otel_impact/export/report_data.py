"""Report content shared by the HTML and Markdown reports and the terminal summary.

:func:`build_sections` turns a result document into a list of :class:`Section` (id, title,
tables, inline-SVG charts, notes). Every result key is optional: a missing or empty section
says "no data" instead of failing. The renderers only lay these out.

>>> [s.id for s in build_sections({})][:3]
['summary', 'model-vs-business', 'correlation']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from otel_impact import semconv as sc
from otel_impact.export import svg
from otel_impact.export.report_base import (
    Section,
    Table,
    ci_of,
    epoch,
    fmt,
    generic_table,
    normalise,
    num,
    rows_of,
    seg_label,
)
from otel_impact.export.report_contract import contract_sections
from otel_impact.export.report_cost import cost_section
from otel_impact.export.report_ops import (
    data_quality_section,
    evaluation_section,
    kpi_section,
    timeline_section,
)

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


# the fields every analysis result shares (STYLE: estimate, ci, pvalue, n, method), as table columns
ESTIMATE_HEADERS = ("method", "estimate", "CI", "p-value", "n")


def _estimate_cells(r: Mapping[str, Any]) -> list[str]:
    """The :data:`ESTIMATE_HEADERS` cells of one result row."""
    return [
        fmt(r.get("method")),
        fmt(r.get("estimate")),
        fmt(list(ci_of(r))),
        fmt(r.get("pvalue")),
        fmt(r.get("n")),
    ]


def _estimate_chart(labels: list[str], rows: list[Mapping[str, Any]], what: str) -> str:
    """Bars of each row's estimate with its confidence-interval whiskers."""
    return svg.bar_chart(
        labels,
        [num(r.get("estimate")) for r in rows],
        ci=[ci_of(r) for r in rows],
        title=f"{what} estimate with confidence interval",
    )


def _series_by_name(result: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    out: dict[str, Mapping[str, Any]] = {}
    for row in rows_of(result, "series"):
        if not row.get("segment") and row.get("name") not in out:
            out[str(row.get("name"))] = row
    return out


def _model_vs_business(result: Mapping[str, Any]) -> Section:
    sec = Section("model-vs-business", "Model vs business metric (best lag applied)")
    series = _series_by_name(result)
    best: dict[tuple[str, str], Mapping[str, Any]] = {}
    for row in rows_of(result, "correlations"):
        if row.get("segment"):
            continue
        key = (str(row.get("model_metric")), str(row.get("business_metric")))
        est = num(row.get("estimate"))
        if est is not None and (key not in best or abs(est) > abs(num(best[key].get("estimate")) or 0)):
            best[key] = row
    pairs = [
        (m, b, num(r.get("lag_s")) or 0.0, r) for (m, b), r in best.items() if m in series and b in series
    ]
    if not pairs:  # no correlations yet: show every model next to every business series, no lag
        models = [n for n, r in series.items() if r.get("kind") == "model"]
        business = [n for n, r in series.items() if r.get("kind") == "business"]
        pairs = [(m, b, 0.0, {}) for m in models[:3] for b in business[:3]]
    for m, b, lag, row in pairs[:6]:
        lines = []
        for name, shift in ((m, 0.0), (b, -lag)):
            s = series[name]
            xs = [(epoch(t) or 0.0) + shift for t in s.get("buckets") or []]
            lines.append(
                (
                    f"{name}" + (f" shifted {lag / 3600:g}h" if shift else ""),
                    xs,
                    normalise(s.get("values") or []),
                )
            )
        buckets = series[m].get("buckets") or [""]
        title = f"{m} vs {b} (normalised; business shifted back by lag {lag / 3600:g}h)"
        sec.charts.append(svg.line_chart(lines, title=title, x_labels=(str(buckets[0]), str(buckets[-1]))))
        sec.notes.append(
            f"{m} → {b}: r = {fmt(num(row.get('estimate')))} at lag {lag / 3600:g}h" if row else f"{m} vs {b}"
        )
    return sec


def _correlation(result: Mapping[str, Any]) -> Section:
    sec = Section("correlation", "Correlation by segment")
    rows = rows_of(result, "correlations")
    if rows:
        labels = [
            f"{r.get('model_metric')}→{r.get('business_metric')} · {seg_label(r.get('segment'))}"
            for r in rows
        ]
        sec.charts.append(_estimate_chart(labels, rows, "Correlation"))
        sec.tables.append(
            Table(
                ["model metric", "business metric", "segment", "lag (s)", *ESTIMATE_HEADERS],
                [
                    [
                        fmt(r.get("model_metric")),
                        fmt(r.get("business_metric")),
                        seg_label(r.get("segment")),
                        fmt(r.get("lag_s")),
                        *_estimate_cells(r),
                    ]
                    for r in rows
                ],
            )
        )
    ranking = rows_of(result, "segment_ranking")
    if ranking:
        sec.tables.append(generic_table(ranking))
    transfer = rows_of(result, "transfer")
    if transfer:
        sec.tables.append(generic_table(transfer))
    return sec


def _attribution(result: Mapping[str, Any]) -> Section:
    sec = Section("attribution", "Attribution by model and version")
    rows = rows_of(result, "attribution")
    if rows:
        labels = [
            f"{r.get('model')} · {r.get(sc.ML_MODEL_NAME)} v{r.get(sc.ML_MODEL_VERSION)}"
            + (f" · {seg_label(r.get('segment'))}" if r.get("segment") else "")
            for r in rows
        ]
        sec.charts.append(
            svg.bar_chart(labels, [num(r.get("value")) for r in rows], title="Attributed value")
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
    stitching = rows_of(result, "stitching")
    if stitching:
        sec.tables.append(generic_table(stitching))
    return sec


def _lift(result: Mapping[str, Any]) -> Section:
    sec = Section("lift", "Lift with confidence intervals")
    rows = rows_of(result, "lift")
    if rows:
        labels = [
            f"{r.get('metric')}: {fmt(r.get('treatment'))} vs {fmt(r.get('control'))} · {seg_label(r.get('segment'))}"
            for r in rows
        ]
        sec.charts.append(_estimate_chart(labels, rows, "Lift"))
        sec.tables.append(
            Table(
                ["metric", "treatment", "control", "segment", *ESTIMATE_HEADERS],
                [
                    [
                        fmt(r.get("metric")),
                        fmt(r.get("treatment")),
                        fmt(r.get("control")),
                        seg_label(r.get("segment")),
                        *_estimate_cells(r),
                    ]
                    for r in rows
                ],
            )
        )
    return sec


def _roi(result: Mapping[str, Any]) -> Section:
    sec = Section("roi", "ROI by model version")
    rows = rows_of(result, "roi")
    if rows:
        labels = [f"{r.get(sc.ML_MODEL_NAME)} v{r.get(sc.ML_MODEL_VERSION)}" for r in rows]
        sec.charts.append(svg.bar_chart(labels, [num(r.get("roi_pct")) for r in rows], title="ROI (%)"))
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
        counts.append((key, str(len(rows_of(result, key)))))
    sec.tables.append(Table(["item", "value"], [[k, v] for k, v in counts]))
    seen: dict[str, int] = {}
    for w in result.get("warnings") or []:
        seen[str(w)] = seen.get(str(w), 0) + 1
    for i, (w, n) in enumerate(seen.items()):
        if i == 12:
            sec.notes.append(f"… and {len(seen) - 12} more distinct warning(s)")
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
        cost_section(result),
        timeline_section(result),
        kpi_section(result),
        evaluation_section(result),
        data_quality_section(result),
        *contract_sections(result),
    ]


__all__ = ["CHART_SECTIONS", "Section", "Table", "build_sections", "fmt", "seg_label"]
