"""OpenTelemetry SDK set-up of the demo's simulated services.

Each simulated service gets its own ``TracerProvider`` / ``MeterProvider`` / ``LoggerProvider``
with a ``service.name`` resource and OTLP/HTTP exporters pointed at the embedded receiver — the
same wiring a real service would have, only with large batches so that 30 simulated days pass
in about a minute. The recommender runs as two replicas: one records every trace, the other uses
a ``TraceIdRatioBased`` sampler (the analyzer must re-weight its predictions by their adjusted
count).
Trace and span ids come from a generator seeded by the world's seed, so a demo run with the same
seed samples the same traces and reproduces its numbers.

The batch processors' queues are sized for one simulated day and the emitter flushes after each
day, so no span or log record is ever dropped by a full queue.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, Sampler, TraceIdRatioBased

from otel_impact import semconv

RECOMMENDER = "recommender"
CHECKOUT = "checkout"
SUBSCRIPTIONS = "subscriptions"
FEATURE_PIPELINE = "feature-pipeline"
SERVICE_NAMES = (RECOMMENDER, CHECKOUT, SUBSCRIPTIONS, FEATURE_PIPELINE)

_QUEUE = 1 << 18  # > one simulated day of spans or log records at the default size
_BATCH = 8192
_EXPORT_TIMEOUT_S = 60.0  # one OTLP request (the receiver acknowledges once written)
_FLUSH_TIMEOUT_S = 600.0  # a whole backlog on a busy machine
_METRIC_INTERVAL_MS = 3_600_000  # metrics are flushed explicitly at the end


class SeededIdGenerator(IdGenerator):
    """Random, valid (non-zero) trace and span ids from a seeded generator: reproducible runs."""

    def __init__(self, seed: int | str) -> None:
        self._random = random.Random(seed)

    def generate_span_id(self) -> int:
        return self._random.getrandbits(64) or 1

    def generate_trace_id(self) -> int:
        return self._random.getrandbits(128) or 1


@dataclass
class Service:
    """The three SDK providers of one simulated service (or replica)."""

    name: str
    instance: str
    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    logger_provider: LoggerProvider

    def flush(self, timeout_s: float = _FLUSH_TIMEOUT_S) -> bool:
        """Export everything buffered; True when every provider flushed in time."""
        ms = int(timeout_s * 1000)
        ok = self.tracer_provider.force_flush(ms)
        ok = self.logger_provider.force_flush(ms) and ok
        return bool(ok)

    def flush_metrics(self, timeout_s: float = _FLUSH_TIMEOUT_S) -> bool:
        return bool(self.meter_provider.force_flush(int(timeout_s * 1000)))

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()
        self.logger_provider.shutdown()


def make_service(
    name: str,
    endpoint: str,
    *,
    instance: str | None = None,
    sampler: Sampler | None = None,
    seed: int | None = None,
) -> Service:
    """Providers for service ``name`` exporting OTLP/HTTP protobuf to ``endpoint`` (``http://host:port``).

    With ``seed``, trace and span ids are drawn from a generator seeded by ``seed`` and ``instance``.
    """
    base = endpoint.rstrip("/")
    instance = instance or name
    resource = Resource.create({semconv.SERVICE_NAME: name, semconv.SERVICE_INSTANCE_ID: instance})
    ids = SeededIdGenerator(f"{seed}/{instance}") if seed is not None else None
    tracer_provider = TracerProvider(resource=resource, sampler=sampler or ALWAYS_ON, id_generator=ids)
    tracer_provider.add_span_processor(
        BatchSpanProcessor(
            OTLPSpanExporter(endpoint=f"{base}/v1/traces", timeout=_EXPORT_TIMEOUT_S),
            max_queue_size=_QUEUE,
            max_export_batch_size=_BATCH,
            schedule_delay_millis=2000,
            export_timeout_millis=int(_EXPORT_TIMEOUT_S * 1000),
        )
    )
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(
        BatchLogRecordProcessor(
            OTLPLogExporter(endpoint=f"{base}/v1/logs", timeout=_EXPORT_TIMEOUT_S),
            max_queue_size=_QUEUE,
            max_export_batch_size=_BATCH,
            schedule_delay_millis=2000,
            export_timeout_millis=int(_EXPORT_TIMEOUT_S * 1000),
        )
    )
    reader = PeriodicExportingMetricReader(
        OTLPMetricExporter(endpoint=f"{base}/v1/metrics", timeout=_EXPORT_TIMEOUT_S),
        export_interval_millis=_METRIC_INTERVAL_MS,
    )
    meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
    return Service(name, instance, tracer_provider, meter_provider, logger_provider)


@dataclass
class Services:
    """All simulated services of the demo."""

    recommender: Service  # records every trace
    recommender_sampled: Service  # TraceIdRatioBased(ratio)
    checkout: Service
    subscriptions: Service
    pipeline: Service

    def all(self) -> tuple[Service, ...]:
        return (self.recommender, self.recommender_sampled, self.checkout, self.subscriptions, self.pipeline)

    def flush(self) -> bool:
        ok = True
        for service in self.all():
            ok = service.flush() and ok
        return ok

    def flush_metrics(self) -> bool:
        ok = True
        for service in self.all():
            ok = service.flush_metrics() and ok
        return ok

    def shutdown(self) -> None:
        for service in self.all():
            service.shutdown()


def make_services(
    endpoint: str, sampled_ratio: float, *, replica: str = "0", seed: int | None = None
) -> Services:
    """The demo's services, all exporting to the receiver at ``endpoint``.

    ``replica`` distinguishes the ``service.instance.id`` of services run by several processes;
    ``seed`` (the world's) makes their trace and span ids reproducible.
    """

    def service(name: str, instance: str, sampler: Sampler | None = None) -> Service:
        return make_service(name, endpoint, instance=f"{instance}-{replica}", sampler=sampler, seed=seed)

    return Services(
        recommender=service(RECOMMENDER, "recommender-a"),
        recommender_sampled=service(RECOMMENDER, "recommender-b", TraceIdRatioBased(sampled_ratio)),
        checkout=service(CHECKOUT, "checkout"),
        subscriptions=service(SUBSCRIPTIONS, "subscriptions"),
        pipeline=service(FEATURE_PIPELINE, "feature-pipeline"),
    )
