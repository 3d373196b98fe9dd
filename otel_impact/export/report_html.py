"""Self-contained HTML report: inline CSS and inline SVG charts, no scripts, no network.

>>> html = render_html({"window": {"start": "2026-11-01T00:00:00Z", "end": "2026-11-08T00:00:00Z"}})
>>> "<h2 id=\\"summary\\">Summary</h2>" in html and "http://cdn" not in html
True
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from otel_impact.export.report_data import Section, Table, build_sections

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;
color:#222;line-height:1.4;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.85rem}th,td{border:1px solid #ddd;padding:.25rem .5rem;
text-align:left;vertical-align:top}th{background:#f4f4f4}svg.chart{display:block;margin:.6rem 0;
background:#fcfcfc;border:1px solid #eee;max-width:100%;height:auto}.nodata{color:#888;font-style:italic}
.note{color:#444;font-size:.9rem}nav a{margin-right:.8rem;font-size:.85rem}
"""


def _table(table: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in table.headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in table.rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _section(sec: Section) -> str:
    parts = [f'<section id="sec-{sec.id}"><h2 id="{sec.id}">{escape(sec.title)}</h2>']
    if sec.empty:
        parts.append('<p class="nodata">no data</p>')
    parts += [f'<p class="note">{escape(n)}</p>' for n in sec.notes]
    parts += [f'<figure class="figure">{chart}</figure>' for chart in sec.charts]  # charts are escaped SVG
    parts += [_table(t) for t in sec.tables]
    parts.append("</section>")
    return "".join(parts)


def render_html(result: Mapping[str, Any], title: str = "otel-impact report") -> str:
    """The whole report as one HTML document (viewable offline)."""
    sections = build_sections(result)
    window = result.get("window") or {}
    nav = "".join(f'<a href="#{s.id}">{escape(s.title)}</a>' for s in sections)
    subtitle = f"{window.get('start', '')} .. {window.get('end', '')}"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1><p>Did the model move the business? Window {escape(subtitle)}</p>"
        f"<nav>{nav}</nav>" + "".join(_section(s) for s in sections) + "</body></html>\n"
    )
