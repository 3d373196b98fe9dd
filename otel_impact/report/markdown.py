"""Markdown report: the same sections as the HTML report, as tables (charts are left out).

>>> from otel_impact.records import Result
>>> empty = Result.from_json({"window": {"start": "2026-11-01T00:00:00Z", "end": "2026-11-08T00:00:00Z"}})
>>> render_markdown(empty).splitlines()[0]
'# otel-impact report'
"""

from __future__ import annotations

from otel_impact.records import Result
from otel_impact.report.base import fmt_time
from otel_impact.report.data import Section, Table, build_sections


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def md_table(table: Table) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = [
        "| " + " | ".join(_cell(h) for h in table.headers) + " |",
        "|" + "|".join("---" for _ in table.headers) + "|",
    ]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in table.rows]
    return "\n".join(lines)


def md_section(sec: Section, level: int = 2) -> str:
    parts = ["#" * level + " " + sec.title, ""]
    if sec.headline is not None:
        parts += [*sec.headline.lines()[1:], ""]
    elif sec.empty or not (sec.tables or sec.notes):
        parts += ["_no data_", ""]
    for note in sec.notes:
        parts += [f"- {note}"]
    if sec.notes:
        parts.append("")
    for table in sec.tables:
        if table.caption:
            parts += [f"**{table.caption}**", ""]
        parts += [md_table(table), ""]
    return "\n".join(parts)


def render_markdown(result: Result, title: str = "otel-impact report") -> str:
    """The whole report as Markdown."""
    head = [
        f"# {title}",
        "",
        f"Window {fmt_time(result.window.start)} .. {fmt_time(result.window.end)} UTC",
        "",
        "",
    ]
    return "\n".join(head) + "\n".join(md_section(s) for s in build_sections(result))
