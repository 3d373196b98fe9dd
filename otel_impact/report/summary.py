"""Concise terminal summary of a result document: the headline, then the key numbers.

The headline is the same as the report's (:func:`otel_impact.report.headline.build_headline`).
Warnings are not part of these lines: the CLI prints them to stderr (:func:`warning_lines`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from otel_impact import semconv as sc
from otel_impact.report.base import (
    fmt_ci,
    fmt_duration,
    fmt_num,
    fmt_pct,
    fmt_r,
    fmt_time,
    model_label,
    num,
    rows_of,
    seg_label,
)
from otel_impact.report.headline import build_headline, lift_model, method_name, p_is


def _table(rows: list[tuple[str, str, str]]) -> list[str]:
    if not rows:
        return []
    w0 = max(len(r[0]) for r in rows)
    w1 = min(48, max(len(r[1]) for r in rows))
    return [f"  {a:<{w0}}  {b:<{w1}}  {c}".rstrip() for a, b, c in rows]


def summary_lines(result: Mapping[str, Any]) -> list[str]:
    """Window, the headline, then correlations, lifts (largest first), ROI, alerts."""
    window = result.get("window") or {}
    lines = [f"window {fmt_time(window.get('start'))} .. {fmt_time(window.get('end'))} UTC"]
    lines += build_headline(result).lines(evidence=False)
    rows: list[tuple[str, str, str]] = []
    seen: set[tuple[str, ...]] = set()
    corr = sorted(
        (r for r in rows_of(result, "correlations") if not r.get("segment")),
        key=lambda r: num(r.get("pvalue")) or 1.0,
    )
    for r in corr:
        key = (
            str(r.get(sc.ML_MODEL_NAME)),
            str(r.get("model_metric")),
            str(r.get("business_metric")),
            str(r.get("method")),
        )
        if key in seen:
            continue
        seen.add(key)
        rows.append(
            (
                "correlation",
                f"{model_label(r.get(sc.ML_MODEL_NAME))} {r.get('model_metric')} → {r.get('business_metric')}",
                f"r = {fmt_r(r.get('estimate'))} {method_name(r.get('method'))}, CI {fmt_ci(r, fmt_r)}, "
                f"lag {fmt_duration(r.get('lag_s'))}, {p_is(r.get('pvalue'))} (corrected)",
            )
        )
    lifts = sorted(rows_of(result, "lift"), key=lambda r: -abs(num(r.get("estimate")) or 0.0))
    for r in lifts[:6]:
        rows.append(
            (
                "lift",
                f"{lift_model(result, r)} {r.get('metric')} [{seg_label(r.get('segment'))}]",
                f"{fmt_pct(r.get('estimate'))} CI {fmt_ci(r, fmt_pct)}, {p_is(r.get('pvalue'))}",
            )
        )
    for r in rows_of(result, "roi"):
        pct = num(r.get("roi_pct"))
        rows.append(
            (
                "roi",
                f"{model_label(r.get(sc.ML_MODEL_NAME), r.get(sc.ML_MODEL_VERSION))} {r.get('metric', '')}".strip(),
                f"{fmt_pct(pct, scale=1)} (net benefit {fmt_num(r.get('net_benefit'))})"
                if pct is not None
                else "not claimed (lift not significant)",
            )
        )
    for r in rows_of(result, "evaluation"):
        rows.append(("evaluation", str(r.get("feature")), str(r.get("action") or r.get("decision"))))
    alerts = rows_of(result, "alerts")
    firing = [a for a in alerts if a.get("state", "firing") == "firing"]
    crit = [a for a in firing if str(a.get("severity", "")).lower() in ("critical", "error", "high")]
    rows.append(
        (
            "alerts",
            "fired",
            f"{len(firing)} firing ({len(crit)} critical), {len(alerts) - len(firing)} resolved",
        )
    )
    rows.append(("incidents", "detected", str(len(rows_of(result, "incidents")))))
    return lines + _table(rows)


def warning_lines(result: Mapping[str, Any]) -> list[str]:
    """``warning: …`` lines (each distinct warning once, with a count), for stderr."""
    seen: dict[str, int] = {}
    for w in result.get("warnings") or []:
        seen[str(w)] = seen.get(str(w), 0) + 1
    return [f"warning: {w}" + (f" (×{n})" if n > 1 else "") for w, n in seen.items()]
