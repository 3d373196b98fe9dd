"""Concise terminal summary of a result document (plain text table)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from otel_impact.export.report_data import fmt, seg_label


def summary_lines(result: Mapping[str, Any]) -> list[str]:
    """A few aligned lines: window, top correlations, lift, ROI, alerts, evaluation decisions."""
    window = result.get("window") or {}
    lines = [f"window {window.get('start', '–')} .. {window.get('end', '–')}"]
    rows: list[tuple[str, str, str]] = []
    for r in (result.get("correlations") or [])[:8]:
        rows.append(
            (
                "correlation",
                f"{r.get('model_metric')}→{r.get('business_metric')} [{seg_label(r.get('segment'))}]",
                f"{fmt(r.get('estimate'))} lag {fmt(r.get('lag_s'))}s p={fmt(r.get('pvalue'))}",
            )
        )
    for r in (result.get("lift") or [])[:5]:
        rows.append(
            (
                "lift",
                f"{r.get('metric')} [{seg_label(r.get('segment'))}]",
                f"{fmt(r.get('estimate'))} CI {fmt(r.get('ci'))}",
            )
        )
    for r in (result.get("roi") or [])[:5]:
        rows.append(
            ("roi", f"{r.get('ml.model.name')} v{r.get('ml.model.version')}", f"{fmt(r.get('roi_pct'))}%")
        )
    for r in result.get("evaluation") or []:
        rows.append(("evaluation", str(r.get("feature")), str(r.get("action") or r.get("decision"))))
    rows.append(("alerts", "fired", str(len(result.get("alerts") or []))))
    rows.append(("incidents", "detected", str(len(result.get("incidents") or []))))
    w0 = max(len(r[0]) for r in rows)
    w1 = min(60, max(len(r[1]) for r in rows))
    lines += [f"  {a:<{w0}}  {b[:60]:<{w1}}  {c}" for a, b, c in rows]
    lines += [f"warning: {w}" for w in result.get("warnings") or []]
    return lines
