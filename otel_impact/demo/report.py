"""The demo's outputs: ``results.json``, ``report.md``, ``report.html`` and the terminal summary.

The analyzer job writes the full reports (charts, every section). The demo adds what only it
knows — the *planted vs recovered* table and the reconciliation of emitted vs stored telemetry —
as a section at the top of both reports. When this build has no report writer, the demo writes
a compact report of its own with the same section plus the analysis summary.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import TYPE_CHECKING

from otel_impact.context import iso_utc
from otel_impact.demo.recover import table_lines, table_markdown
from otel_impact.report.base import fmt_num
from otel_impact.report.headline import build_headline

if TYPE_CHECKING:
    from otel_impact.demo.run import DemoOutcome

MARK = "<!-- otel-impact demo: planted vs recovered -->"


def summary_lines(outcome: DemoOutcome) -> list[str]:
    """Terminal summary: sizes, reconciliation verdict, planted vs recovered table, outputs."""
    p, c = outcome.params, outcome.counts
    lines = [
        "",
        f"otel-impact demo — {p.days} days × {p.users:,} users, seed {p.seed}, "
        f"{p.start.date().isoformat()} .. {p.end.date().isoformat()}",
        f"telemetry: {c.predictions:,} predictions ({c.predictions_recorded:,} spans kept by sampling), "
        f"{c.outcomes:,} outcomes, {c.purchases:,} purchases, {c.subscriptions:,} subscriptions, "
        f"{c.pipeline_events} pipeline events — "
        + ("all reconciled in the store" if outcome.reconciliation.ok else "NOT reconciled"),
        "",
        *build_headline(outcome.result).lines(evidence=False),
        "",
        "planted vs recovered:",
        *("  " + line for line in table_lines(outcome.rows)),
        "",
    ]
    outside = [r.effect for r in outcome.rows if not r.planted_here]
    if outside:
        lines += [
            f"not in this {p.days}-day window: {', '.join(outside)} (the demo plants them later or needs "
            "more days; run with --days 30 to see every effect)",
            "",
        ]
    for note in outcome.notes:
        lines.append(f"note: {note}")
    for name, path in sorted(outcome.paths.items()):
        lines.append(f"{name:<8} {path}")
    return lines


def _markdown_section(outcome: DemoOutcome) -> list[str]:
    p = outcome.params
    lines = [
        "## Demo: planted vs recovered",
        "",
        f"Simulated {p.days} days × {p.users:,} users (seed {p.seed}), "
        f"{p.start.date().isoformat()} .. {p.end.date().isoformat()}.",
        "",
        *table_markdown(outcome.rows),
        "",
        "### Emitted vs stored telemetry",
        "",
        "| what | emitted | stored | ok |",
        "|---|---|---|---|",
        *[
            f"| {c.what} | {fmt_num(c.emitted)} | {fmt_num(c.stored)} | {'yes' if c.ok else 'NO'} |"
            for c in outcome.reconciliation.checks
        ],
        "",
    ]
    lines += [f"_Note: {n}_" for n in outcome.notes]
    return lines


def _html_section(outcome: DemoOutcome) -> str:
    e = html.escape
    rows = "".join(
        f"<tr class='{'ok' if r.ok else 'miss'}'><td>{e(r.effect)}</td><td>{e(r.planted)}</td>"
        f"<td>{e(r.recovered)}</td><td>{e(r.verdict)}</td></tr>"
        for r in outcome.rows
    )
    checks = "".join(
        f"<tr><td>{e(c.what)}</td><td>{fmt_num(c.emitted)}</td><td>{fmt_num(c.stored)}</td>"
        f"<td>{'yes' if c.ok else 'NO'}</td></tr>"
        for c in outcome.reconciliation.checks
    )
    p = outcome.params
    notes = "".join(f"<p><em>{e(n)}</em></p>" for n in outcome.notes)
    return (
        f"{MARK}<section id='demo'><h2>Demo: planted vs recovered</h2>"
        f"<p>Simulated {p.days} days × {p.users:,} users (seed {p.seed}), "
        f"{e(p.start.date().isoformat())} .. {e(p.end.date().isoformat())}.</p>"
        "<style>#demo table{border-collapse:collapse}#demo td,#demo th{border:1px solid #ccc;padding:2px 8px}"
        "#demo tr.ok td:last-child{color:#1a7f37}#demo tr.miss td:last-child{color:#b42318}</style>"
        f"<table><tr><th>effect</th><th>planted</th><th>recovered</th><th>verdict</th></tr>{rows}</table>"
        "<h3>Emitted vs stored telemetry</h3>"
        f"<table><tr><th>what</th><th>emitted</th><th>stored</th><th>ok</th></tr>{checks}</table>{notes}</section>"
    )


def _json_number(value: float | None) -> float | None:
    """A value as ``results.json`` spells it (an undefined number is ``None`` there)."""
    return value if value is not None and math.isfinite(value) else None


def _own_markdown(outcome: DemoOutcome) -> str:
    r = outcome.result
    lines = ["# otel-impact demo report", "", *_markdown_section(outcome), "## Analysis summary", ""]
    lines.append(f"Window {iso_utc(r.window.start)} .. {iso_utc(r.window.end)}.")
    lines.append("")
    for row in r.stitching:
        lines.append(
            f"* {row.business_metric}: {row.outcomes} outcomes, "
            f"{row.attributed_outcomes} attributed, value {_json_number(row.value_total)}"
        )
    for warning in r.warnings:
        lines.append(f"* warning: {warning}")
    return "\n".join(lines) + "\n"


def _own_html(outcome: DemoOutcome) -> str:
    body = html.escape(_own_markdown(outcome))
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>otel-impact demo</title></head><body>"
        f"<h1>otel-impact demo report</h1>{_html_section(outcome)}<h2>Analysis summary</h2><pre>{body}</pre>"
        "</body></html>\n"
    )


def _inject_markdown(text: str, outcome: DemoOutcome) -> str:
    section = "\n".join(_markdown_section(outcome)) + "\n"
    first = text.find("\n## ")
    second = text.find("\n## ", first + 1) if first >= 0 else -1
    if second >= 0:  # after the headline, which stays the first section
        return text[: second + 1] + section + "\n" + text[second + 1 :]
    lines = text.splitlines(keepends=True)
    # after the title line when there is one, else at the top
    if lines and lines[0].startswith("# "):
        return lines[0] + "\n" + section + "\n" + "".join(lines[1:])
    return section + "\n" + text


def _inject_html(text: str, outcome: DemoOutcome) -> str:
    section = _html_section(outcome)
    lower = text.lower()
    head = lower.find('<section id="sec-headline"')
    if head >= 0:  # after the headline, which stays the first section
        at = lower.find("</section>", head) + len("</section>")
        return text[:at] + section + text[at:]
    at = lower.find("</h1>")
    if at >= 0:
        at += len("</h1>")
    else:
        body = lower.find("<body")
        at = lower.find(">", body) + 1 if body >= 0 else 0
    return text[:at] + section + text[at:]


def write_outputs(outcome: DemoOutcome, out: Path) -> dict[str, Path]:
    """Write results.json and the reports (the demo section right after the headline); return paths."""
    from otel_impact.demo.run import dumps, results_document

    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    results = out / "results.json"
    results.write_text(dumps(results_document(outcome)) + "\n", encoding="utf-8")
    paths["results"] = results
    md, page = out / "report.md", out / "report.html"
    have_md = "md" in outcome.paths and md.exists()
    have_html = "html" in outcome.paths and page.exists()
    md.write_text(
        _inject_markdown(md.read_text(encoding="utf-8"), outcome) if have_md else _own_markdown(outcome),
        encoding="utf-8",
    )
    page.write_text(
        _inject_html(page.read_text(encoding="utf-8"), outcome) if have_html else _own_html(outcome),
        encoding="utf-8",
    )
    paths["md"], paths["html"] = md, page
    return paths
