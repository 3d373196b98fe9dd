"""Export of analysis results: OTLP ``impact.*`` metrics/events, HTML/Markdown reports, the headline."""

from otel_impact.export.headline import Headline, build_headline
from otel_impact.export.otlp import ExportSummary, OtlpResultExporter
from otel_impact.export.points import ImpactEvent, ImpactPoint, result_events, result_points
from otel_impact.export.report_html import render_html
from otel_impact.export.report_md import render_markdown
from otel_impact.export.summary import summary_lines

__all__ = [
    "ExportSummary",
    "Headline",
    "ImpactEvent",
    "ImpactPoint",
    "OtlpResultExporter",
    "build_headline",
    "render_html",
    "render_markdown",
    "result_events",
    "result_points",
    "summary_lines",
]
