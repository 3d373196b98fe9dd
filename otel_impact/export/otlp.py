"""Send ``impact.*`` points and events over OTLP with explicit timestamps.

The SDK's instruments stamp "now", but an analysis result belongs at the end of the bucket or
window it describes, so this module builds ``MetricsData`` (gauges with ``time_unix_nano``) and
``ReadableLogRecord`` events (``timestamp`` + ``event_name``) directly and hands them to the
standard ``OTLPMetricExporter`` / ``OTLPLogExporter`` (HTTP/protobuf or gRPC). Endpoint, protocol,
headers and timeout come from the ``export`` config section or, when unset, from the standard
``OTEL_EXPORTER_OTLP_*`` variables (without any endpoint, results go into the store instead:
:mod:`otel_impact.export.store`). The exporter retries within its timeout; on top of that each
batch gets ``export.retries`` more attempts with exponential backoff, then :class:`ExportError`.

>>> from otel_impact.config.job import ExportSection
>>> OtlpResultExporter(ExportSection(endpoint="http://collector:4318")).metrics_endpoint
'http://collector:4318/v1/metrics'
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from otel_impact import semconv as sc
from otel_impact.config.job import ExportSection
from otel_impact.errors import ExportError
from otel_impact.export.points import ImpactEvent, ImpactPoint

log = logging.getLogger(__name__)

EXPORT_BATCH = 2000
EXPORT_FIXES = (
    "Is the collector running? Without one: write the results into the store "
    "(`export.endpoint: store` in impact.yaml, or --export-endpoint store), run this analysis inside "
    "the receiver's process (`otel-impact collect --analyze-config impact.yaml`), or skip the export "
    "(--no-export)."
)
_SEVERITY_NUMBER = {"DEBUG": 5, "INFO": 9, "WARN": 13, "ERROR": 17, "FATAL": 21}


def _package_version() -> str:
    try:
        return version("otel-impact")
    except PackageNotFoundError:  # pragma: no cover - source checkout without install
        return "0"


@dataclass(frozen=True)
class ExportSummary:
    """What one export sent: point and event counts, attempts used, endpoint."""

    points: int
    events: int
    attempts: int
    endpoint: str


def build_metrics_data(points: Sequence[ImpactPoint], service_name: str) -> Any:
    """``MetricsData`` with one gauge per metric name; each point keeps its own timestamp."""
    from opentelemetry.sdk.metrics.export import (
        Gauge,
        Metric,
        MetricsData,
        NumberDataPoint,
        ResourceMetrics,
        ScopeMetrics,
    )
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope

    by_name: dict[str, list[ImpactPoint]] = {}
    for p in points:
        by_name.setdefault(p.name, []).append(p)
    metrics = [
        Metric(
            name=name,
            description=pts[0].description,
            unit=pts[0].unit,
            data=Gauge(
                data_points=[
                    NumberDataPoint(
                        attributes=dict(p.attributes),
                        start_time_unix_nano=p.time_unix_nano,
                        time_unix_nano=p.time_unix_nano,
                        value=p.value,
                    )
                    for p in pts
                ]
            ),
        )
        for name, pts in by_name.items()
    ]
    scope = InstrumentationScope(sc.ANALYZER_SCOPE, _package_version())
    resource = Resource.create({sc.SERVICE_NAME: service_name})
    return MetricsData(
        resource_metrics=[
            ResourceMetrics(
                resource=resource,
                scope_metrics=[ScopeMetrics(scope=scope, metrics=metrics, schema_url="")],
                schema_url="",
            )
        ]
    )


def build_log_records(events: Sequence[ImpactEvent], service_name: str) -> list[Any]:
    """SDK ``ReadableLogRecord`` objects with explicit timestamps and EventName."""
    from opentelemetry._logs import LogRecord, SeverityNumber
    from opentelemetry.sdk._logs import ReadableLogRecord
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope

    scope = InstrumentationScope(sc.ANALYZER_SCOPE, _package_version())
    resource = Resource.create({sc.SERVICE_NAME: service_name})
    return [
        ReadableLogRecord(
            log_record=LogRecord(
                timestamp=e.time_unix_nano,
                observed_timestamp=time.time_ns(),
                severity_text=e.severity,
                severity_number=SeverityNumber(_SEVERITY_NUMBER.get(e.severity, 9)),
                body=e.body,
                attributes=dict(e.attributes),
                event_name=e.name,
            ),
            resource=resource,
            instrumentation_scope=scope,
        )
        for e in events
    ]


class OtlpResultExporter:
    """Exports result points/events to one OTLP endpoint; raises :class:`ExportError` on failure."""

    def __init__(
        self,
        settings: ExportSection | None = None,
        *,
        endpoint: str | None = None,
        protocol: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings or ExportSection()
        self.endpoint = (endpoint or self.settings.endpoint or "").rstrip("/") or None
        proto = (
            protocol
            or self.settings.protocol
            or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
            or "http/protobuf"
        )
        if proto not in ("http/protobuf", "grpc"):
            raise ExportError(f"export.protocol: unsupported OTLP protocol {proto!r} (http/protobuf or grpc)")
        self.protocol = proto
        self._sleep = sleep
        self._metric_exporter: Any = None
        self._log_exporter: Any = None

    @property
    def metrics_endpoint(self) -> str | None:
        if self.endpoint is None or self.protocol == "grpc":
            return self.endpoint
        return f"{self.endpoint}/v1/metrics"

    @property
    def logs_endpoint(self) -> str | None:
        if self.endpoint is None or self.protocol == "grpc":
            return self.endpoint
        return f"{self.endpoint}/v1/logs"

    def _exporters(self) -> tuple[Any, Any]:
        if self._metric_exporter is None:
            kwargs: dict[str, Any] = {}
            if self.settings.headers:
                kwargs["headers"] = dict(self.settings.headers)
            if self.settings.timeout is not None:
                kwargs["timeout"] = self.settings.timeout
            if self.protocol == "grpc":
                from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GLog
                from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
                    OTLPMetricExporter as GMetric,
                )

                if self.endpoint is not None:
                    kwargs["insecure"] = self.settings.insecure
                self._metric_exporter = GMetric(endpoint=self.endpoint, **kwargs)
                self._log_exporter = GLog(endpoint=self.endpoint, **kwargs)
            else:
                from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
                from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

                self._metric_exporter = OTLPMetricExporter(endpoint=self.metrics_endpoint, **kwargs)
                self._log_exporter = OTLPLogExporter(endpoint=self.logs_endpoint, **kwargs)
        return self._metric_exporter, self._log_exporter

    def _retry(self, what: str, send: Callable[[], bool]) -> int:
        attempts = 0
        delay = self.settings.retry_backoff
        while True:
            attempts += 1
            try:
                ok = send()
            except Exception as exc:  # the exporters log and return FAILURE; be safe anyway
                log.warning("OTLP %s export raised: %s", what, exc)
                ok = False
            if ok:
                return attempts
            if attempts > self.settings.retries:
                raise ExportError(
                    f"OTLP {what} export to {self.endpoint or 'the OTEL_EXPORTER_OTLP_* endpoint'} "
                    f"({self.protocol}) failed after {attempts} attempt(s); the job's watermark was "
                    f"not advanced, the next run will re-export this window. {EXPORT_FIXES}"
                )
            log.warning("OTLP %s export failed (attempt %d), retrying in %.2fs", what, attempts, delay)
            self._sleep(delay)
            delay = min(delay * 2, 60.0)

    def export(self, points: Sequence[ImpactPoint], events: Sequence[ImpactEvent]) -> ExportSummary:
        """Send everything; all batches must succeed or :class:`ExportError` is raised."""
        from opentelemetry.sdk._logs.export import LogRecordExportResult
        from opentelemetry.sdk.metrics.export import MetricExportResult

        metric_exporter, log_exporter = self._exporters()
        service = self.settings.service_name
        attempts = 0
        timeout_ms = (self.settings.timeout or 10.0) * 1000
        for i in range(0, len(points), EXPORT_BATCH):
            data = build_metrics_data(points[i : i + EXPORT_BATCH], service)

            def send_metrics(data: Any = data) -> bool:
                return bool(
                    metric_exporter.export(data, timeout_millis=timeout_ms) == MetricExportResult.SUCCESS
                )

            attempts += self._retry("metrics", send_metrics)
        for i in range(0, len(events), EXPORT_BATCH):
            records = build_log_records(events[i : i + EXPORT_BATCH], service)

            def send_logs(records: list[Any] = records) -> bool:
                return bool(log_exporter.export(records) == LogRecordExportResult.SUCCESS)

            attempts += self._retry("logs", send_logs)
        return ExportSummary(len(points), len(events), attempts, self.endpoint or "(OTEL_EXPORTER_OTLP_*)")

    def shutdown(self) -> None:
        for exporter in (self._metric_exporter, self._log_exporter):
            if exporter is not None:
                try:
                    exporter.shutdown()
                except Exception as exc:  # pragma: no cover - shutdown is best effort
                    log.debug("exporter shutdown: %s", exc)
        self._metric_exporter = self._log_exporter = None
