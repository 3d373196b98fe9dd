"""Report content shared by the HTML and Markdown reports.

:func:`build_sections` turns a result document into a list of :class:`Section` (id, title,
tables, inline-SVG charts, notes). The first section is always the headline
(:mod:`otel_impact.report.headline`): the answer, then what needs attention. A result section
the run did not produce, or an empty one, says "no data" instead of failing. The renderers only
lay these out.

>>> from otel_impact.records import Result
>>> empty = Result.from_json({"window": {"start": "2026-11-01T00:00:00Z", "end": "2026-11-02T00:00:00Z"}})
>>> [s.id for s in build_sections(empty)][:3]
['headline', 'model-vs-business', 'lift']
"""

from __future__ import annotations

from otel_impact.records import Attribution, Correlation, Lift, Result, Series
from otel_impact.report import svg
from otel_impact.report.base import (
    Section,
    Table,
    ci_of,
    ci_source,
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


def _series_by_name(result: Result) -> dict[str, Series]:
    """All-users, all-versions series by name."""
    out: dict[str, Series] = {}
    for row in result.series:
        if not row.segment and row.model_version is None and row.name not in out:
            out[row.name] = row
    return out


def business_unit(result: Result, metric: str) -> str:
    """What one bucket of a business series counts, for axis labels."""
    for r in result.stitching:
        if r.business_metric == metric and num(r.value_total) == num(r.outcomes):
            return "events"
    return "value"


def _bucket_word(series: Series) -> str:
    ts = [b.timestamp() for b in series.buckets]
    step = ts[1] - ts[0] if len(ts) > 1 else 86400.0
    return "day" if step == 86400 else "hour" if step == 3600 else fmt_duration(step)


def _model_vs_business(result: Result) -> Section:
    sec = Section("model-vs-business", "Model metric vs business metric over time")
    series = _series_by_name(result)
    by_pair: dict[tuple[str, str, str], list[Correlation]] = {}
    for row in result.correlations:
        by_pair.setdefault((row.model_name or "", row.model_metric, row.business_metric), []).append(row)
    for (model, mm, bm), rows in list(by_pair.items())[:6]:
        best = best_correlation(rows)
        if best is None or mm not in series or bm not in series:
            continue
        lag = num(best.lag_s) or 0.0
        xm = [t.timestamp() for t in series[mm].buckets]
        xb = [t.timestamp() - lag for t in series[bm].buckets]
        per = _bucket_word(series[bm])
        shifted = f", drawn {fmt_duration(lag)} earlier" if lag else ""
        top = svg.Panel(f"{mm}", [(f"{model} {mm}".strip(), xm, [num(v) for v in series[mm].values])])
        bottom = svg.Panel(
            f"{business_unit(result, bm)}/{per}",
            [(f"{bm} per {per}{shifted}", xb, [num(v) for v in series[bm].values])],
            colors=(svg.PALETTE[1],),
        )
        title = f"{model} {mm} (top) and {bm} (bottom, shifted back by the best lag {fmt_duration(lag)})"
        sec.charts.append(svg.panels([top, bottom], title=title))
        sec.notes.append(
            f"{model} {mm} → {bm}: r = {fmt_r(best.estimate)} ({method_name(best.method)}) at lag "
            f"{fmt_duration(lag)}; the lower panel is drawn {fmt_duration(lag)} earlier so that the two line up."
        )
    return sec


def _correlation(result: Result) -> Section:
    sec = Section("correlation", "Correlation by segment (best lag)")
    rows = result.correlations
    methods = list(dict.fromkeys(r.method for r in rows))
    shown = methods[0] if methods else ""
    by_metric: dict[str, list[Correlation]] = {}
    for r in rows:
        if r.method == shown:
            by_metric.setdefault(r.business_metric, []).append(r)
    for bm, rs in by_metric.items():
        labels = [
            seg_label(r.segment) + (f" ({r.model_metric})" if len({x.model_metric for x in rs}) > 1 else "")
            for r in rs
        ]
        if len(set(labels)) < len(labels):  # several lags of one pair: say which
            labels = [f"{lab} · lag {fmt_duration(r.lag_s)}" for lab, r in zip(labels, rs, strict=True)]
        sec.charts.append(
            svg.bar_chart(
                labels,
                [num(r.estimate) for r in rs],
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
                model_label(r.model_name),
                f"{r.model_metric} → {r.business_metric}",
                seg_label(r.segment),
                method_name(r.method),
                fmt_duration(r.lag_s),
                fmt_r(r.estimate),
                fmt_ci(r, fmt_r),
                fmt_p(r.pvalue_unadjusted),
                fmt_p(r.pvalue) if num(r.pvalue_unadjusted) is not None else "–",
                fmt_int(r.n),
            ]
            for r in sorted(
                rows, key=lambda r: (r.business_metric, bool(r.segment), seg_label(r.segment), r.method)
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
    ranking = result.segment_ranking
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
                        fmt_int(r.rank),
                        f"{r.model_metric} → {r.business_metric}",
                        seg_label(r.segment),
                        fmt_r(r.strength),
                        fmt_r(r.estimate),
                        fmt_p(r.pvalue),
                        fmt_int(r.n),
                        fmt_duration(r.lag_s),
                        fmt_time(r.period_end) if r.period_end else "window end",
                    ]
                    for r in ranking
                ],
                caption="Segments ranked by how strongly the business metric follows the model metric (Pearson)",
            )
        )
    transfer = result.transfer
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
                        f"{r.model_metric} → {r.business_metric}",
                        seg_label(r.segment),
                        fmt_duration(r.lag_s),
                        fmt_num(r.estimate),
                        fmt_ci(r),
                        fmt_p(r.pvalue),
                        fmt_num(r.elasticity),
                        fmt_ci(r.elasticity_ci),
                        ("yes" if r.saturated else "no")
                        + (
                            f" (p = {fmt_p(r.saturation_pvalue)})"
                            if num(r.saturation_pvalue) is not None
                            else ""
                        ),
                    ]
                    for r in transfer
                ],
                caption=f"Transfer: business change per unit of model metric ({method_name(transfer[0].method)} slope)",
            )
        )
    return sec


def _attribution(result: Result) -> Section:
    sec = Section("attribution", "Attributed value by model version")
    rows = result.attribution
    by_metric: dict[str, list[Attribution]] = {}
    for r in rows:
        by_metric.setdefault(r.business_metric, []).append(r)
    for bm, rs in by_metric.items():
        overall = [r for r in rs if not r.segment]
        versions = list(dict.fromkeys(version_label(r.model_version) for r in overall))
        names = {r.model_name for r in overall}
        version_colors = (svg.PALETTE[0], svg.PALETTE[3], svg.PALETTE[2], svg.PALETTE[4], svg.PALETTE[5])
        colors = {v: version_colors[i % len(version_colors)] for i, v in enumerate(versions)}
        labels = [
            (f"{r.model_name} " if len(names) > 1 else "")
            + f"{version_label(r.model_version)} · {r.model.replace('_', ' ')}"
            for r in overall
        ]
        sec.charts.append(
            svg.bar_chart(
                labels,
                [num(r.value) for r in overall],
                title=f"{bm}: attributed {business_unit(result, bm)} per model version and attribution model",
                axis_label=f"{bm} {business_unit(result, bm)} credited (all users, whole window)",
                colors=[colors[version_label(r.model_version)] for r in overall],
                legend=[
                    (f"{model_label(next(iter(names)) if len(names) == 1 else '', v)}", c)
                    for v, c in colors.items()
                ],
            )
        )
    if rows:
        keys = list(dict.fromkeys((r.business_metric, r.model, seg_label(r.segment)) for r in rows))
        versions = list(dict.fromkeys(model_label(r.model_name, r.model_version) for r in rows))
        cell = {
            (r.business_metric, r.model, seg_label(r.segment), model_label(r.model_name, r.model_version)): r
            for r in rows
        }
        table = []
        for bm, how, seg in keys:
            line = [bm, how.replace("_", " "), seg]
            for v in versions:
                c = cell.get((bm, how, seg, v))
                line.append(f"{fmt_num(c.value)} ({fmt_num(c.credit)} conv.)" if c else "–")
            table.append(line)
        sec.tables.append(
            Table(
                ["business metric", "attribution model", "segment", *versions],
                table,
                caption="Attributed value (conversions credited) per version",
            )
        )
    stitching = result.stitching
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
                        fmt(r.business_metric),
                        fmt(r.key),
                        fmt_duration(r.window_s),
                        fmt_int(r.outcomes),
                        fmt_int(r.attributed_outcomes),
                        fmt_int(r.unattributed_outcomes),
                        fmt_num(r.value_total),
                        fmt_num(r.attributed_value),
                    ]
                    for r in stitching
                ],
                caption="Outcomes stitched to the predictions that preceded them",
            )
        )
    return sec


def _lift(result: Result) -> Section:
    sec = Section("lift", "Lift of treatment over control (A/B)")
    rows = result.lift
    groups: dict[tuple[str, str], list[Lift]] = {}
    for r in rows:
        groups.setdefault((r.metric, lift_model(result, r)), []).append(r)
    for (metric, who), rs in groups.items():
        sec.charts.append(
            svg.bar_chart(
                [seg_label(r.segment) for r in rs],
                [num(r.estimate) for r in rs],
                ci=[ci_of(r) for r in rs],
                percent=True,
                title=f"{metric}: relative lift of {who}, by segment",
                axis_label=f"relative lift in {metric} per exposed user, % (CI whiskers)",
            )
        )
    if rows:
        sec.notes.append(
            "Lift = treatment mean / control mean − 1 per exposed user; p from Welch's t-test, CI from "
            + ci_source(r.ci_method for r in rows)
            + ". 'significant' needs both: p < 0.05 and a CI that excludes 0."
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
                        fmt(r.metric),
                        lift_model(result, r),
                        seg_label(r.segment),
                        fmt_pct(r.estimate),
                        fmt_ci(r, fmt_pct),
                        fmt_p(r.pvalue),
                        "yes" if significant_lift(r) else "no",
                        f"{fmt_int(r.n_treatment)} / {fmt_int(r.n_control)}",
                        f"{fmt_num(r.mean_treatment)} / {fmt_num(r.mean_control)}",
                    ]
                    for r in rows
                ],
            )
        )
    return sec


def _roi(result: Result) -> Section:
    sec = Section("roi", "ROI of the treatment version")
    rows = result.roi
    for r in rows:
        lift = next((x for x in result.lift if x.metric == r.metric and not x.segment), None)
        who = model_label(r.model_name, r.model_version)
        sec.notes.append(f"{who} on {r.metric}: ROI {roi_sentence(r, lift)}.")
        lo, hi = ci_of(r.incremental_value_ci)
        sec.charts.append(
            svg.bar_chart(
                ["incremental value", "cost", "net benefit"],
                [num(r.incremental_value), num(r.cost), num(r.net_benefit)],
                ci=[(lo, hi), (None, None), (None, None)],
                title=f"{who}: incremental {r.metric} value vs cost",
                axis_label=f"{r.metric} value over the window",
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
                        model_label(r.model_name, r.model_version),
                        fmt(r.metric),
                        fmt_num(r.incremental_value),
                        fmt_ci(r.incremental_value_ci),
                        fmt_num(r.cost),
                        fmt_num(r.net_benefit),
                        fmt_pct(r.roi_pct, scale=1) if num(r.roi_pct) is not None else "not claimed",
                        fmt_int(r.predictions),
                        fmt_int(r.units),
                    ]
                    for r in rows
                ],
            )
        )
    return sec


def _headline(result: Result) -> Section:
    sec = Section("headline", "Did the model move the business?")
    sec.headline = build_headline(result)
    return sec


def _run(result: Result) -> Section:
    sec = Section("run", "Run details and warnings")
    window, run = result.window, result.run
    items = [
        ("window", f"{fmt_time(window.start)} .. {fmt_time(window.end)} UTC"),
        ("run", run.id if run is not None else "–"),
    ]
    counts = (("correlations", len(result.correlations)), ("attribution rows", len(result.attribution)),
              ("lift rows", len(result.lift)), ("alerts", len(result.alerts)),
              ("incidents", len(result.incidents)))  # fmt: skip
    items += [(label, fmt_int(n)) for label, n in counts]
    sec.tables.append(Table(["item", "value"], [[k, v] for k, v in items]))
    seen: dict[str, int] = {}
    for w in result.warnings:
        seen[w] = seen.get(w, 0) + 1
    if seen:
        sec.tables.append(
            Table(
                ["warning", "times"],
                [[w, fmt_int(n)] for w, n in seen.items()],
                caption=f"{len(seen)} distinct warning(s)",
            )
        )
    return sec


def build_sections(result: Result) -> list[Section]:
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
