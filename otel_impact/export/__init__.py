"""OTLP export of analysis results: ``impact.*`` metrics and events, to a Collector or the store."""

from otel_impact.export.otlp import ExportSummary, OtlpResultExporter
from otel_impact.export.points import ImpactEvent, ImpactPoint, result_events, result_points

__all__ = [
    "ExportSummary",
    "ImpactEvent",
    "ImpactPoint",
    "OtlpResultExporter",
    "result_events",
    "result_points",
]
