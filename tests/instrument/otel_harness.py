"""In-memory OTel harness for instrumentation tests: an ``Instrumentation`` on SDK in-memory exporters.

A module of its own (not ``conftest``) so test modules can import it by a name no other test
folder shares.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import Sampler

from otel_impact.instrument import Instrumentation, Settings


@dataclass
class Otel:
    """An instrumentation instance plus what it exported."""

    instr: Instrumentation
    spans_exporter: InMemorySpanExporter
    logs_exporter: InMemoryLogRecordExporter
    reader: InMemoryMetricReader
    tracer_provider: TracerProvider

    def spans(self) -> list[ReadableSpan]:
        return list(self.spans_exporter.get_finished_spans())

    def events(self) -> list[Any]:
        return [d.log_record for d in self.logs_exporter.get_finished_logs()]

    def metrics(self) -> dict[str, list[Any]]:
        """Metric name → data points of the current collection."""
        data = self.reader.get_metrics_data()
        out: dict[str, list[Any]] = {}
        if data is None:
            return out
        for rm in data.resource_metrics:
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    out.setdefault(metric.name, []).extend(metric.data.data_points)
        return out


def make_otel(settings: Settings | None = None, sampler: Sampler | None = None) -> Otel:
    spans = InMemorySpanExporter()
    tp = TracerProvider(sampler=sampler, shutdown_on_exit=False)
    tp.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    mp = MeterProvider(metric_readers=[reader], shutdown_on_exit=False)
    logs = InMemoryLogRecordExporter()
    lp = LoggerProvider(shutdown_on_exit=False)
    lp.add_log_record_processor(SimpleLogRecordProcessor(logs))
    instr = Instrumentation(
        tracer_provider=tp, meter_provider=mp, logger_provider=lp, settings=settings or Settings()
    )
    return Otel(instr, spans, logs, reader, tp)
