"""otel-impact: did the model move the business?

The package root re-exports the instrumentation API used inside ML services. The names resolve
lazily (PEP 562) so ``import otel_impact.semconv`` or the analyzer do not pay for OpenTelemetry
imports, and nothing here imports numpy, scipy, chdb or clickhouse_connect.

A service that does not run under ``opentelemetry-instrument`` calls :func:`configure` once at
start-up (OTLP tracer/meter/logger providers from the standard ``OTEL_*`` variables).

>>> from otel_impact import track_prediction
>>> with track_prediction("ranker", "v2", user_id="u1") as p:
...     p.record(score=0.87, label="click")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from otel_impact.instrument import (
        Instrumentation,
        configure,
        instrument_model,
        record_business_event,
        record_outcome,
        record_pipeline_event,
        track_prediction,
    )

__all__ = [
    "Instrumentation",
    "configure",
    "instrument_model",
    "record_business_event",
    "record_outcome",
    "record_pipeline_event",
    "track_prediction",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from otel_impact import instrument

        return getattr(instrument, name)
    raise AttributeError(f"module 'otel_impact' has no attribute {name!r}")
