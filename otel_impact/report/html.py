"""Self-contained HTML report: inline CSS and inline SVG charts, no scripts, no network.

The first section is the headline (the answer and what needs attention); long tables are
collapsed behind a ``<details>`` summary so the page stays short.

>>> from otel_impact.records import Result
>>> html = render_html(Result.from_json({"window": {"start": "2026-11-01T00:00:00Z", "end": "2026-11-08T00:00:00Z"}}))
>>> '<section id="sec-headline"' in html and "http://cdn" not in html
True
"""

from __future__ import annotations

import re
from html import escape

from otel_impact.records import Result
from otel_impact.report.base import COLLAPSE_ROWS, fmt_time
from otel_impact.report.data import Section, Table, build_sections
from otel_impact.report.headline import Headline

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.2rem auto;max-width:1040px;
color:#222;line-height:1.4;padding:0 1rem}
h1{font-size:1.5rem;margin:0 0 .2rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:1.8rem}
.sub{color:#555;margin:.1rem 0 .6rem}
table{border-collapse:collapse;margin:.4rem 0;font-size:.84rem;max-width:100%}
th,td{border:1px solid #ddd;padding:.2rem .45rem;text-align:left;vertical-align:top;overflow-wrap:break-word}
th{background:#f4f4f4}td.num{text-align:right;white-space:nowrap}
svg.chart{display:block;margin:.5rem 0;background:#fcfcfc;border:1px solid #eee;max-width:100%;height:auto}
svg.chart text{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;fill:#333}
.nodata{color:#888;font-style:italic}.note{color:#444;font-size:.9rem;margin:.3rem 0}
nav{font-size:.82rem;margin:.4rem 0}nav a{margin-right:.7rem}
details{margin:.4rem 0}summary{cursor:pointer;color:#1a4d8f;font-size:.9rem}
.caption,figcaption{font-size:.88rem;font-weight:600;margin:.6rem 0 .1rem}figure{margin:.8rem 0}
#sec-headline{border:1px solid #cfd8e3;background:#f7fafd;border-radius:6px;padding:.2rem 1rem .6rem}
#sec-headline h2{margin-top:.6rem;border:0}
.finding{margin:.35rem 0}.verdict{font-weight:700}.v-moved{color:#1a7f37}.v-moves-with{color:#0b5cad}
.v-no-evidence{color:#6b6b6b}.evidence{margin:.1rem 0 .4rem 1.2rem;font-size:.88rem;color:#333}
.attention li{margin:.15rem 0}.sev{font-weight:700;font-size:.78rem;padding:0 .3rem;border-radius:3px;color:#fff}
.sev-critical{background:#c62828}.sev-incident{background:#7b1fa2}.sev-warning{background:#ef6c00}
"""


def _cell(c: str) -> str:
    numeric = c[:1].isdigit() or (c[:1] in "+-–<" and c[1:2].isdigit())
    return f'<td class="num">{escape(c)}</td>' if numeric and len(c) < 24 else f"<td>{escape(c)}</td>"


def _table(table: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in table.headers)
    body = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in table.rows)
    html = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    collapse = table.collapse if table.collapse is not None else len(table.rows) > COLLAPSE_ROWS
    caption = table.caption or f"{len(table.rows)} rows"
    if collapse:
        return f"<details><summary>{escape(caption)} ({len(table.rows)} rows, click to show)</summary>{html}</details>"
    return (f'<p class="caption">{escape(table.caption)}</p>' if table.caption else "") + html


def _headline(h: Headline) -> str:
    parts = []
    for f in h.findings:
        cls = "v-" + f.verdict.replace(" ", "-")
        parts.append(f'<div class="finding"><span class="verdict {cls}">{escape(f.sentence)}</span>')
        if f.evidence:
            parts.append(
                '<ul class="evidence">'
                + "".join(f"<li><b>{escape(e.kind)}</b>: {escape(e.text)}</li>" for e in f.evidence)
                + "</ul>"
            )
        parts.append("</div>")
    if not h.findings:
        parts.append('<p class="nodata">No model or business metric was analysed in this window.</p>')
    parts.append('<h3 id="attention">Needs attention</h3>')
    if h.attention:
        parts.append(
            '<ul class="attention">'
            + "".join(
                f'<li><span class="sev sev-{escape(a.severity)}">{escape(a.severity.upper())}</span> '
                f"{escape(a.at)}: {escape(a.text)}</li>"
                for a in h.attention
            )
            + "</ul>"
        )
    else:
        parts.append('<p class="note">Nothing critical, no incidents.</p>')
    return "".join(parts)


def _figure(chart: str) -> str:
    """A chart (escaped SVG) with its title as a visible caption."""
    found = re.search(r'aria-label="([^"]*)"', chart)
    caption = f"<figcaption>{found.group(1)}</figcaption>" if found else ""  # already escaped
    return f'<figure class="figure">{caption}{chart}</figure>'


def _section(sec: Section) -> str:
    parts = [f'<section id="sec-{sec.id}"><h2 id="{sec.id}">{escape(sec.title)}</h2>']
    if sec.headline is not None:
        parts.append(_headline(sec.headline))
    elif sec.empty:
        parts.append('<p class="nodata">no data</p>')
    parts += [f'<p class="note">{escape(n)}</p>' for n in sec.notes]
    parts += [_figure(chart) for chart in sec.charts]
    parts += [_table(t) for t in sec.tables]
    parts.append("</section>")
    return "".join(parts)


def render_html(result: Result, title: str = "otel-impact report") -> str:
    """The whole report as one HTML document (viewable offline)."""
    sections = build_sections(result)
    nav = "".join(f'<a href="#{s.id}">{escape(s.title)}</a>' for s in sections[1:])
    subtitle = f"Window {fmt_time(result.window.start)} .. {fmt_time(result.window.end)} UTC"
    head, rest = sections[0], sections[1:]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f'<header><h1>{escape(title)}</h1><p class="sub">{escape(subtitle)}</p></header>'
        + _section(head)
        + f"<nav>{nav}</nav>"
        + "".join(_section(s) for s in rest)
        + "</body></html>\n"
    )
