"""Concise terminal summary of a result: the headline, then the key numbers.

The headline is the same as the report's (:func:`otel_impact.report.headline.build_headline`).
Warnings are not part of these lines: the CLI prints them to stderr (:func:`warning_lines`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from otel_impact.records import Result
from otel_impact.report.base import (
    fmt_duration,
    fmt_num,
    fmt_pct,
    fmt_r,
    fmt_time,
    model_label,
    num,
    seg_label,
)
from otel_impact.report.headline import (
    build_headline,
    ci_bounds,
    lift_model,
    method_name,
    p_is,
    window_of,
)


def _fmt_ci(ci: Sequence[float | None] | None, spell: Callable[[float | None], str]) -> str:
    """``[low, high]`` spelled by ``spell``; "–" when either end is undefined."""
    lo, hi = ci_bounds(ci)
    return "–" if lo is None or hi is None else f"[{spell(lo)}, {spell(hi)}]"


def _table(rows: list[tuple[str, str, str]]) -> list[str]:
    if not rows:
        return []
    w0 = max(len(r[0]) for r in rows)
    w1 = min(48, max(len(r[1]) for r in rows))
    return [f"  {a:<{w0}}  {b:<{w1}}  {c}".rstrip() for a, b, c in rows]


def summary_lines(result: Result) -> list[str]:
    """Window, the headline, then correlations, lifts (largest first), ROI, alerts."""
    window = window_of(result)
    start, end = (window.start, window.end) if window else (None, None)
    lines = [f"window {fmt_time(start)} .. {fmt_time(end)} UTC"]
    lines += build_headline(result).lines(evidence=False)
    rows: list[tuple[str, str, str]] = []
    seen: set[tuple[str, ...]] = set()
    corr = sorted((r for r in result.correlations if not r.segment), key=lambda r: num(r.pvalue) or 1.0)
    for r in corr:
        key = (str(r.model_name), str(r.model_metric), str(r.business_metric), str(r.method))
        if key in seen:
            continue
        seen.add(key)
        rows.append(
            (
                "correlation",
                f"{model_label(r.model_name)} {r.model_metric} → {r.business_metric}",
                f"r = {fmt_r(r.estimate)} {method_name(r.method)}, CI {_fmt_ci(r.ci, fmt_r)}, "
                f"lag {fmt_duration(r.lag_s)}, {p_is(r.pvalue)} (corrected)",
            )
        )
    lifts = sorted(result.lift, key=lambda r: -abs(num(r.estimate) or 0.0))
    for x in lifts[:6]:
        rows.append(
            (
                "lift",
                f"{lift_model(result, x)} {x.metric} [{seg_label(x.segment)}]",
                f"{fmt_pct(x.estimate)} CI {_fmt_ci(x.ci, fmt_pct)}, {p_is(x.pvalue)}",
            )
        )
    for roi in result.roi:
        pct = num(roi.roi_pct)
        rows.append(
            (
                "roi",
                f"{model_label(roi.model_name, roi.model_version)} {roi.metric}".strip(),
                f"{fmt_pct(pct, scale=1)} (net benefit {fmt_num(roi.net_benefit)})"
                if pct is not None
                else "not claimed (lift not significant)",
            )
        )
    for ev in result.evaluation or []:
        rows.append(("evaluation", str(ev.feature), str(ev.action or ev.decision)))
    alerts = result.alerts
    firing = result.firing_alerts()
    crit = [a for a in firing if str(a.severity).lower() in ("critical", "error", "high")]
    rows.append(
        (
            "alerts",
            "fired",
            f"{len(firing)} firing ({len(crit)} critical), {len(alerts) - len(firing)} resolved",
        )
    )
    rows.append(("incidents", "detected", str(len(result.incidents))))
    return lines + _table(rows)


def warning_lines(result: Result) -> list[str]:
    """``warning: …`` lines (each distinct warning once, with a count), for stderr."""
    seen: dict[str, int] = {}
    for w in result.warnings:
        seen[str(w)] = seen.get(str(w), 0) + 1
    return [f"warning: {w}" + (f" (×{n})" if n > 1 else "") for w, n in seen.items()]
