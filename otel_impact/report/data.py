"""Report content shared by the HTML and Markdown reports.

:func:`build_sections` turns a result document into a list of :class:`Section` (id, title,
tables, inline-SVG charts, notes). The first section is always the headline
(:mod:`otel_impact.report.headline`): the answer, then what needs attention. Every result key
is optional: a missing or empty section says "no data" instead of failing. The renderers only
lay these out.

>>> [s.id for s in build_sections({})][:3]
['headline', 'model-vs-business', 'lift']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from otel_impact import semconv as sc
from otel_impact.report import svg
from otel_impact.report.base import (
    Section,
    Table,
    ci_of,
    epoch,
    fmt,
    fmt_ci,
    fmt_duration,
    fmt_int,
    fmt_num,
    fmt_p,
    fmt_pct,
    fmt_r,
    fmt_time,
    model_label,
    num,
    rows_of,
    seg_label,
    version_label,
)
from otel_impact.report.contract import contract_sections
from otel_impact.report.cost import cost_section
from otel_impact.report.headline import (
    best_correlation,
    build_headline,
    lift_model,
    method_name,
    roi_sentence,
    significant_lift,
)
from otel_impact.report.ops import (
    data_quality_section,
    evaluation_section,
    kpi_section,
    timeline_section,
)
from otel_impact.report.rollout import rollout_section

# sections that draw at least one chart when they have data
CHART_SECTIONS = (
    "model-vs-business",
    "lift",
    "roi",
    "attribution",
    "correlation",
    "timeline",
    "kpi",
    "evaluation",
)


def _series_by_name(result: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """All-users, all-versions series by name."""
    out: dict[str, Mapping[str, Any]] = {}
    for row in rows_of(result, "series"):
        if not row.get("segment") and row.get(sc.ML_MODEL_VERSION) is None and row.get("name") not in out:
            out[str(row.get("name"))] = row
    return out


def business_unit(result: Mapping[str, Any], metric: str) -> str:
    """What one bucket of a business series counts, for axis labels."""
    for r in rows_of(result, "stitching"):
        if r.get("business_metric") == metric and num(r.get("value_total")) == num(r.get("outcomes")):
            return "events"
    return "value"


def _bucket_word(series: Mapping[str, Any]) -> str:
    ts = [t for b in series.get("buckets") or [] if (t := epoch(b)) is not None]
    step = ts[1] - ts[0] if len(ts) > 1 else 86400.0
    return "day" if step == 86400 else "hour" if step == 3600 else fmt_duration(step)


def _model_vs_business(result: Mapping[str, Any]) -> Section:
    sec = Section("model-vs-business", "Model metric vs business metric over time")
    series = _series_by_name(result)
    by_pair: dict[tuple[str, str, str], list[Mapping[str, Any]]] = {}
    for row in rows_of(result, "correlations"):
        key = (
            str(row.get(sc.ML_MODEL_NAME) or ""),
            str(row.get("model_metric")),
            str(row.get("business_metric")),
        )
        by_pair.setdefault(key, []).append(row)
    for (model, mm, bm), rows in list(by_pair.items())[:6]:
        best = best_correlation(rows)
        if best is None or mm not in series or bm not in series:
            continue
        lag = num(best.get("lag_s")) or 0.0
        xm = [epoch(t) or 0.0 for t in series[mm].get("buckets") or []]
        xb = [(epoch(t) or 0.0) - lag for t in series[bm].get("buckets") or []]
        per = _bucket_word(series[bm])
        shifted = f", drawn {fmt_duration(lag)} earlier" if lag else ""
        top = svg.Panel(
            f"{mm}", [(f"{model} {mm}".strip(), xm, [num(v) for v in series[mm].get("values") or []])]
        )
        bottom = svg.Panel(
            f"{business_unit(result, bm)}/{per}",
            [(f"{bm} per {per}{shifted}", xb, [num(v) for v in series[bm].get("values") or []])],
            colors=(svg.PALETTE[1],),
        )
        title = f"{model} {mm} (top) and {bm} (bottom, shifted back by the best lag {fmt_duration(lag)})"
        sec.charts.append(svg.panels([top, bottom], title=title))
        sec.notes.append(
            f"{model} {mm} → {bm}: r = {fmt_r(best.get('estimate'))} ({method_name(best.get('method'))}) at lag "
            f"{fmt_duration(lag)}; the lower panel is drawn {fmt_duration(lag)} earlier so that the two line up."
        )
    return sec


def _correlation(result: Mapping[str, Any]) -> Section:
    sec = Section("correlation", "Correlation by segment (best lag)")
    rows = rows_of(result, "correlations")
    methods = list(dict.fromkeys(str(r.get("method")) for r in rows))
    shown = methods[0] if methods else ""
    by_metric: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        if str(r.get("method")) == shown:
            by_metric.setdefault(str(r.get("business_metric")), []).append(r)
    for bm, rs in by_metric.items():
        labels = [
            seg_label(r.get("segment"))
            + (f" ({r.get('model_metric')})" if len({x.get("model_metric") for x in rs}) > 1 else "")
            for r in rs
        ]
        if len(set(labels)) < len(labels):  # several lags of one pair: say which
            labels = [
                f"{lab} · lag {fmt_duration(r.get('lag_s'))}" for lab, r in zip(labels, rs, strict=True)
            ]
        sec.charts.append(
            svg.bar_chart(
                labels,
                [num(r.get("estimate")) for r in rs],
                ci=[ci_of(r) for r in rs],
                title=f"{bm}: {method_name(shown)} r at the best lag, by segment",
                axis_label=f"{method_name(shown)} correlation r with {bm} (CI whiskers)",
            )
        )
    if rows:
        sec.notes.append(
            "CI and 'p (unadjusted)' come from the same test; 'p (corrected)' is Šidák-adjusted for the "
            "number of lags scanned, and is the one to read for significance."
        )
        table = [
            [
                model_label(r.get(sc.ML_MODEL_NAME)),
                f"{r.get('model_metric')} → {r.get('business_metric')}",
                seg_label(r.get("segment")),
                method_name(r.get("method")),
                fmt_duration(r.get("lag_s")),
                fmt_r(r.get("estimate")),
                fmt_ci(r, fmt_r),
                fmt_p(r.get("pvalue_unadjusted", r.get("pvalue"))),
                fmt_p(r.get("pvalue")) if r.get("pvalue_unadjusted") is not None else "–",
                fmt_int(r.get("n")),
            ]
            for r in sorted(
                rows,
                key=lambda r: (
                    str(r.get("business_metric")),
                    bool(r.get("segment")),
                    seg_label(r.get("segment")),
                    str(r.get("method")),
                ),
            )
        ]
        sec.tables.append(
            Table(
                [
                    "model",
                    "model → business",
                    "segment",
                    "method",
                    "lag",
                    "r",
                    "CI",
                    "p (unadjusted)",
                    "p (corrected)",
                    "n",
                ],
                table,
                caption="All correlations",
            )
        )
    ranking = rows_of(result, "segment_ranking")
    if ranking:
        sec.tables.append(
            Table(
                [
                    "rank",
                    "model → business",
                    "segment",
                    "strength (CI bound nearest 0)",
                    "r",
                    "p",
                    "n",
                    "lag",
                    "measured until",
                ],
                [
                    [
                        fmt_int(r.get("rank")),
                        f"{r.get('model_metric')} → {r.get('business_metric')}",
                        seg_label(r.get("segment")),
                        fmt_r(r.get("strength")),
                        fmt_r(r.get("estimate")),
                        fmt_p(r.get("pvalue")),
                        fmt_int(r.get("n")),
                        fmt_duration(r.get("lag_s")),
                        fmt_time(r.get("period_end")) if r.get("period_end") else "window end",
                    ]
                    for r in ranking
                ],
                caption="Segments ranked by how strongly the business metric follows the model metric (Pearson)",
            )
        )
    transfer = rows_of(result, "transfer")
    if transfer:
        sec.tables.append(
            Table(
                [
                    "model → business",
                    "segment",
                    "lag",
                    "slope (per unit)",
                    "CI",
                    "p",
                    "elasticity",
                    "elasticity CI",
                    "slope weakened?",
                ],
                [
                    [
                        f"{r.get('model_metric')} → {r.get('business_metric')}",
                        seg_label(r.get("segment")),
                        fmt_duration(r.get("lag_s")),
                        fmt_num(r.get("estimate")),
                        fmt_ci(r),
                        fmt_p(r.get("pvalue")),
                        fmt_num(r.get("elasticity")),
                        fmt_ci({"ci": r.get("elasticity_ci")}),
                        ("yes" if r.get("saturated") else "no")
                        + (
                            f" (p = {fmt_p(r.get('saturation_pvalue'))})"
                            if r.get("saturation_pvalue") is not None
                            else ""
                        ),
                    ]
                    for r in transfer
                ],
                caption=f"Transfer: business change per unit of model metric ({method_name((transfer[0]).get('method'))} slope)",
            )
        )
    return sec


def _attribution(result: Mapping[str, Any]) -> Section:
    sec = Section("attribution", "Attributed value by model version")
    rows = rows_of(result, "attribution")
    by_metric: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        by_metric.setdefault(str(r.get("business_metric")), []).append(r)
    for bm, rs in by_metric.items():
        overall = [r for r in rs if not r.get("segment")]
        versions = list(dict.fromkeys(version_label(r.get(sc.ML_MODEL_VERSION)) for r in overall))
        names = {str(r.get(sc.ML_MODEL_NAME)) for r in overall}
        version_colors = (svg.PALETTE[0], svg.PALETTE[3], svg.PALETTE[2], svg.PALETTE[4], svg.PALETTE[5])
        colors = {v: version_colors[i % len(version_colors)] for i, v in enumerate(versions)}
        labels = [
            (f"{r.get(sc.ML_MODEL_NAME)} " if len(names) > 1 else "")
            + f"{version_label(r.get(sc.ML_MODEL_VERSION))} · {str(r.get('model')).replace('_', ' ')}"
            for r in overall
        ]
        sec.charts.append(
            svg.bar_chart(
                labels,
                [num(r.get("value")) for r in overall],
                title=f"{bm}: attributed {business_unit(result, bm)} per model version and attribution model",
                axis_label=f"{bm} {business_unit(result, bm)} credited (all users, whole window)",
                colors=[colors[version_label(r.get(sc.ML_MODEL_VERSION))] for r in overall],
                legend=[
                    (f"{model_label(next(iter(names)) if len(names) == 1 else '', v)}", c)
                    for v, c in colors.items()
                ],
            )
        )
    if rows:
        keys = list(
            dict.fromkeys(
                (str(r.get("business_metric")), str(r.get("model")), seg_label(r.get("segment")))
                for r in rows
            )
        )
        versions = list(
            dict.fromkeys(model_label(r.get(sc.ML_MODEL_NAME), r.get(sc.ML_MODEL_VERSION)) for r in rows)
        )
        cell = {
            (
                str(r.get("business_metric")),
                str(r.get("model")),
                seg_label(r.get("segment")),
                model_label(r.get(sc.ML_MODEL_NAME), r.get(sc.ML_MODEL_VERSION)),
            ): r
            for r in rows
        }
        table = []
        for bm, how, seg in keys:
            line = [bm, how.replace("_", " "), seg]
            for v in versions:
                c = cell.get((bm, how, seg, v))
                line.append(f"{fmt_num(c.get('value'))} ({fmt_num(c.get('credit'))} conv.)" if c else "–")
            table.append(line)
        sec.tables.append(
            Table(
                ["business metric", "attribution model", "segment", *versions],
                table,
                caption="Attributed value (conversions credited) per version",
            )
        )
    stitching = rows_of(result, "stitching")
    if stitching:
        sec.tables.append(
            Table(
                [
                    "business metric",
                    "join key",
                    "join window",
                    "outcomes",
                    "attributed",
                    "unattributed",
                    "total value",
                    "attributed value",
                ],
                [
                    [
                        fmt(r.get("business_metric")),
                        fmt(r.get("key")),
                        fmt_duration(r.get("window_s")),
                        fmt_int(r.get("outcomes")),
                        fmt_int(r.get("attributed_outcomes")),
                        fmt_int(r.get("unattributed_outcomes")),
                        fmt_num(r.get("value_total")),
                        fmt_num(r.get("attributed_value")),
                    ]
                    for r in stitching
                ],
                caption="Outcomes stitched to the predictions that preceded them",
            )
        )
    return sec


def _lift(result: Mapping[str, Any]) -> Section:
    sec = Section("lift", "Lift of treatment over control (A/B)")
    rows = rows_of(result, "lift")
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for r in rows:
        groups.setdefault((str(r.get("metric")), lift_model(result, r)), []).append(r)
    for (metric, who), rs in groups.items():
        sec.charts.append(
            svg.bar_chart(
                [seg_label(r.get("segment")) for r in rs],
                [num(r.get("estimate")) for r in rs],
                ci=[ci_of(r) for r in rs],
                percent=True,
                title=f"{metric}: relative lift of {who}, by segment",
                axis_label=f"relative lift in {metric} per exposed user, % (CI whiskers)",
            )
        )
    if rows:
        sec.notes.append(
            "Lift = treatment mean / control mean − 1 per exposed user; p from Welch's t-test, CI from a "
            "percentile bootstrap. 'significant' needs both: p < 0.05 and a CI that excludes 0."
        )
        sec.tables.append(
            Table(
                [
                    "metric",
                    "comparison",
                    "segment",
                    "lift",
                    "CI",
                    "p (Welch)",
                    "significant",
                    "users (treatment / control)",
                    "mean (treatment / control)",
                ],
                [
                    [
                        fmt(r.get("metric")),
                        lift_model(result, r),
                        seg_label(r.get("segment")),
                        fmt_pct(r.get("estimate")),
                        fmt_ci(r, fmt_pct),
                        fmt_p(r.get("pvalue")),
                        "yes" if significant_lift(r) else "no",
                        f"{fmt_int(r.get('n_treatment'))} / {fmt_int(r.get('n_control'))}",
                        f"{fmt_num(r.get('mean_treatment'))} / {fmt_num(r.get('mean_control'))}",
                    ]
                    for r in rows
                ],
            )
        )
    return sec


def _roi(result: Mapping[str, Any]) -> Section:
    sec = Section("roi", "ROI of the treatment version")
    rows = rows_of(result, "roi")
    lifts = rows_of(result, "lift")
    for r in rows:
        lift = next((x for x in lifts if x.get("metric") == r.get("metric") and not x.get("segment")), None)
        who = model_label(r.get(sc.ML_MODEL_NAME), r.get(sc.ML_MODEL_VERSION))
        sec.notes.append(f"{who} on {r.get('metric')}: ROI {roi_sentence(r, lift)}.")
        lo, hi = ci_of(r, "incremental_value_ci")
        sec.charts.append(
            svg.bar_chart(
                ["incremental value", "cost", "net benefit"],
                [num(r.get("incremental_value")), num(r.get("cost")), num(r.get("net_benefit"))],
                ci=[(lo, hi), (None, None), (None, None)],
                title=f"{who}: incremental {r.get('metric')} value vs cost",
                axis_label=f"{r.get('metric')} value over the window",
                colors=[svg.PALETTE[0], svg.PALETTE[2], svg.PALETTE[3]],
            )
        )
    if rows:
        sec.tables.append(
            Table(
                [
                    "model",
                    "metric",
                    "incremental value",
                    "CI",
                    "cost",
                    "net benefit",
                    "ROI",
                    "predictions",
                    "treated users",
                ],
                [
                    [
                        model_label(r.get(sc.ML_MODEL_NAME), r.get(sc.ML_MODEL_VERSION)),
                        fmt(r.get("metric")),
                        fmt_num(r.get("incremental_value")),
                        fmt_ci({"ci": r.get("incremental_value_ci")}),
                        fmt_num(r.get("cost")),
                        fmt_num(r.get("net_benefit")),
                        fmt_pct(r.get("roi_pct"), scale=1)
                        if num(r.get("roi_pct")) is not None
                        else "not claimed",
                        fmt_int(r.get("predictions")),
                        fmt_int(r.get("units")),
                    ]
                    for r in rows
                ],
            )
        )
    return sec


def _headline(result: Mapping[str, Any]) -> Section:
    sec = Section("headline", "Did the model move the business?")
    sec.headline = build_headline(result)
    return sec


def _run(result: Mapping[str, Any]) -> Section:
    sec = Section("run", "Run details and warnings")
    window = result.get("window") or {}
    run = result.get("run") or {}
    items = [
        (
            "window",
            f"{fmt_time(window.get('start'))} .. {fmt_time(window.get('end'))} UTC" if window else "–",
        ),
        ("run", str(run.get("id", "–"))),
    ]
    for key, label in (("correlations", "correlations"), ("attribution", "attribution rows"), ("lift", "lift rows"),
                       ("alerts", "alerts"), ("incidents", "incidents")):  # fmt: skip
        items.append((label, fmt_int(len(rows_of(result, key)))))
    sec.tables.append(Table(["item", "value"], [[k, v] for k, v in items]))
    seen: dict[str, int] = {}
    for w in result.get("warnings") or []:
        seen[str(w)] = seen.get(str(w), 0) + 1
    if seen:
        sec.tables.append(
            Table(
                ["warning", "times"],
                [[w, fmt_int(n)] for w, n in seen.items()],
                caption=f"{len(seen)} distinct warning(s)",
            )
        )
    return sec


def build_sections(result: Mapping[str, Any]) -> list[Section]:
    """Every report section in display order (empty ones render as "no data")."""
    return [
        _headline(result),
        _model_vs_business(result),
        _lift(result),
        _roi(result),
        _attribution(result),
        _correlation(result),
        rollout_section(result),
        cost_section(result),
        timeline_section(result),
        kpi_section(result),
        evaluation_section(result),
        data_quality_section(result),
        *contract_sections(result),
        _run(result),
    ]


__all__ = ["CHART_SECTIONS", "Section", "Table", "build_sections", "business_unit", "fmt", "seg_label"]
