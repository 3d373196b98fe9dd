"""One-line SDK set-up for services that do not run under ``opentelemetry-instrument``.

The instrumentation API emits through the *global* OpenTelemetry providers. Until something
installs an SDK, those are the API's no-op proxies and every prediction and event is silently
dropped. :func:`configure` installs tracer, meter and logger providers that export OTLP, built from
the standard ``OTEL_*`` variables — the same ones ``opentelemetry-instrument`` reads:

* ``OTEL_SERVICE_NAME`` / ``OTEL_RESOURCE_ATTRIBUTES`` → the resource (``service.name``);
* ``OTEL_EXPORTER_OTLP_ENDPOINT`` (default ``http://localhost:4318``; gRPC ``localhost:4317``),
  ``OTEL_EXPORTER_OTLP_PROTOCOL`` (default ``http/protobuf``; or ``grpc``),
  ``OTEL_EXPORTER_OTLP_HEADERS`` and the per-signal variants → the exporters;
* ``OTEL_TRACES_SAMPLER`` / ``_ARG`` → the sampler; ``OTEL_METRIC_EXPORT_INTERVAL`` → the metric
  reader; ``OTEL_TRACES_EXPORTER`` / ``OTEL_METRICS_EXPORTER`` / ``OTEL_LOGS_EXPORTER`` = ``none``
  leave that signal out; ``OTEL_SDK_DISABLED=true`` configures nothing.

It is idempotent (a second call returns the first call's providers) and leaves alone any provider
the application or ``opentelemetry-instrument`` installed already. The providers flush and shut
down at interpreter exit. Importing this module is cheap: the SDK is imported on the first call.

Usage, first thing in the service's entry point::

    import otel_impact

    otel_impact.configure(service_name="shop-ranker")   # or OTEL_SERVICE_NAME=shop-ranker
    with otel_impact.track_prediction("ranker", "v2", user_id="u1") as p:
        p.record(score=0.87)
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass
from typing import Any

_lock = threading.Lock()
_configured: Providers | None = None

_DEFAULT_PROTOCOL = "http/protobuf"
_PATHS = {"traces": "/v1/traces", "metrics": "/v1/metrics", "logs": "/v1/logs"}


@dataclass(frozen=True)
class Providers:
    """What :func:`configure` set up (``None`` where a provider was already installed or disabled)."""

    service_name: str
    protocol: str
    tracer_provider: Any = None
    meter_provider: Any = None
    logger_provider: Any = None

    def force_flush(self, timeout_millis: int = 30_000) -> None:
        """Export everything buffered now (e.g. before a short script ends)."""
        for provider in (self.tracer_provider, self.meter_provider, self.logger_provider):
            if provider is not None:
                provider.force_flush(timeout_millis)

    def shutdown(self) -> None:
        """Flush and stop the providers set up here (also done at interpreter exit)."""
        for provider in (self.tracer_provider, self.meter_provider, self.logger_provider):
            if provider is not None:
                provider.shutdown()


def configure(
    service_name: str | None = None,
    *,
    endpoint: str | None = None,
    protocol: str | None = None,
    headers: dict[str, str] | None = None,
    resource_attributes: dict[str, str] | None = None,
) -> Providers:
    """Install OTLP-exporting tracer, meter and logger providers as the global ones.

    Arguments override the ``OTEL_*`` variables: ``service_name`` (``OTEL_SERVICE_NAME``),
    ``endpoint`` (base URL, ``OTEL_EXPORTER_OTLP_ENDPOINT``), ``protocol`` (``http/protobuf`` or
    ``grpc``), ``headers``, extra ``resource_attributes``. Returns the :class:`Providers` (the
    same object on every later call).
    """
    global _configured
    with _lock:
        if _configured is not None:
            return _configured
        _configured = _build(service_name, endpoint, protocol, headers, resource_attributes)
        _reset_provider_check()
        return _configured


def _enabled(signal: str) -> bool:
    return os.environ.get(f"OTEL_{signal.upper()}_EXPORTER", "otlp").strip().lower() != "none"


def _build(
    service_name: str | None,
    endpoint: str | None,
    protocol: str | None,
    headers: dict[str, str] | None,
    resource_attributes: dict[str, str] | None,
) -> Providers:
    from opentelemetry import _logs, metrics, trace
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource

    proto = (protocol or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") or _DEFAULT_PROTOCOL).strip()
    if proto not in ("http/protobuf", "grpc"):
        raise ValueError(f"protocol: expected 'http/protobuf' or 'grpc', got {proto!r}")
    attributes: dict[str, Any] = dict(resource_attributes or {})
    if service_name:
        attributes[SERVICE_NAME] = service_name
    resource = Resource.create(attributes)  # merges OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME
    name = str(resource.attributes.get(SERVICE_NAME, "unknown_service"))
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return Providers(name, proto)

    def args(signal: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if endpoint:
            base = endpoint.rstrip("/")
            out["endpoint"] = base if proto == "grpc" else base + _PATHS[signal]
        if headers:
            out["headers"] = dict(headers)
        return out

    tracer_provider = meter_provider = logger_provider = None
    if _enabled("traces") and _is_noop_tracer_provider(trace.get_tracer_provider()):
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        tracer_provider = TracerProvider(resource=resource)
        tracer_provider.add_span_processor(BatchSpanProcessor(_exporter("traces", proto)(**args("traces"))))
        trace.set_tracer_provider(tracer_provider)
    if _enabled("metrics") and _is_noop_meter_provider(metrics.get_meter_provider()):
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

        reader = PeriodicExportingMetricReader(_exporter("metrics", proto)(**args("metrics")))
        meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
        metrics.set_meter_provider(meter_provider)
    if _enabled("logs") and _is_noop_logger_provider(_logs.get_logger_provider()):
        from opentelemetry.sdk._logs import LoggerProvider
        from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

        logger_provider = LoggerProvider(resource=resource)
        logger_provider.add_log_record_processor(
            BatchLogRecordProcessor(_exporter("logs", proto)(**args("logs")))
        )
        _logs.set_logger_provider(logger_provider)
    return Providers(name, proto, tracer_provider, meter_provider, logger_provider)


def _exporter(signal: str, protocol: str) -> Any:
    if protocol == "grpc":
        if signal == "traces":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GSpan

            return GSpan
        if signal == "metrics":
            from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter as GMetric

            return GMetric
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GLog

        return GLog
    if signal == "traces":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter
    if signal == "metrics":
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

        return OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

    return OTLPLogExporter


# --- is an SDK installed? ---------------------------------------------------------------------
# The API's stand-ins: proxies (nothing installed yet; they delegate once something is) and the
# explicit no-op providers. Checked by class name so no private API module is imported.
_NOOP_TRACER = {"ProxyTracerProvider", "NoOpTracerProvider"}
_NOOP_METER = {"_ProxyMeterProvider", "NoOpMeterProvider"}
_NOOP_LOGGER = {"ProxyLoggerProvider", "NoOpLoggerProvider"}


def _is_noop_tracer_provider(provider: object) -> bool:
    return type(provider).__name__ in _NOOP_TRACER


def _is_noop_meter_provider(provider: object) -> bool:
    return type(provider).__name__ in _NOOP_METER


def _is_noop_logger_provider(provider: object) -> bool:
    return type(provider).__name__ in _NOOP_LOGGER


NO_SDK_WARNING = (
    "otel-impact: no OpenTelemetry SDK is configured, so predictions and events are dropped. "
    "Call otel_impact.configure() once at start-up (OTLP to OTEL_EXPORTER_OTLP_ENDPOINT, default "
    "http://localhost:4318), run the service under `opentelemetry-instrument`, or install your own "
    "providers."
)
_warned = False


def _reset_provider_check() -> None:
    """Forget the warning (tests; and after :func:`configure`)."""
    global _warned
    _warned = False


def warn_if_no_sdk(provider: object, kind: str) -> bool:
    """Log :data:`NO_SDK_WARNING` once per process when ``provider`` is a no-op stand-in.

    ``kind`` is ``"tracer"`` or ``"logger"``. Returns True when the provider is a real one (the
    caller then stops checking).
    """
    global _warned
    noop = _is_noop_tracer_provider(provider) if kind == "tracer" else _is_noop_logger_provider(provider)
    if not noop:
        return True
    if not _warned:
        _warned = True
        from otel_impact.instrument._safe import logger

        with contextlib.suppress(Exception):  # logging broken: never hurt the host
            logger.warning(NO_SDK_WARNING)
    return False


__all__ = ["NO_SDK_WARNING", "Providers", "configure", "warn_if_no_sdk"]
