"""Export of analysis results: OTLP ``impact.*`` metrics/events and HTML/Markdown reports."""

from otel_impact.export.otlp import ExportSummary, OtlpResultExporter
from otel_impact.export.points import ImpactEvent, ImpactPoint, result_events, result_points
from otel_impact.export.report_html import render_html
from otel_impact.export.report_md import render_markdown
from otel_impact.export.summary import summary_lines

__all__ = [
    "ExportSummary",
    "ImpactEvent",
    "ImpactPoint",
    "OtlpResultExporter",
    "render_html",
    "render_markdown",
    "result_events",
    "result_points",
    "summary_lines",
]
