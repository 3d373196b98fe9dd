"""Reading a result: the headline verdict, HTML/Markdown reports, the terminal summary, digests."""

from otel_impact.report.headline import Headline, build_headline
from otel_impact.report.html import render_html
from otel_impact.report.markdown import render_markdown
from otel_impact.report.summary import summary_lines

__all__ = ["Headline", "build_headline", "render_html", "render_markdown", "summary_lines"]
