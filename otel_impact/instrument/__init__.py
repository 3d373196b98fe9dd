"""Instrumentation for ML services: prediction spans, unsampled metrics, business/outcome/pipeline events.

Usage (all names come from :mod:`otel_impact.semconv`)::

    from otel_impact import track_prediction, record_business_event, record_outcome

    with track_prediction("ranker", "v2", user_id="u1", session_id="s1", request_id="r1",
                          segment={"platform": "mobile"}, features=[0.3, 1.0]) as p:
        p.record(score=0.87, label="click")          # p.id is the ml.prediction.id
    record_business_event("purchase", value=42.0, currency="EUR", user_id="u1")
    record_outcome(p.id, label="1")

Outside ``opentelemetry-instrument``, call :func:`configure` once at start-up to install OTLP
providers (otherwise the global providers are no-ops and a warning says so once).
Use :class:`Instrumentation` for explicit tracer/meter/logger providers; see
:mod:`otel_impact.instrument.auto` for zero-code instrumentation under ``opentelemetry-instrument``.
"""

from otel_impact.instrument.api import (
    get_instrumentation,
    instrument_model,
    record_business_event,
    record_outcome,
    record_pipeline_event,
    set_instrumentation,
    track_prediction,
)
from otel_impact.instrument.core import Instrumentation
from otel_impact.instrument.features import feature_hash
from otel_impact.instrument.prediction import Prediction
from otel_impact.instrument.sdk import Providers, configure
from otel_impact.instrument.settings import Settings

__all__ = [
    "Instrumentation",
    "Prediction",
    "Providers",
    "Settings",
    "configure",
    "feature_hash",
    "get_instrumentation",
    "instrument_model",
    "record_business_event",
    "record_outcome",
    "record_pipeline_event",
    "set_instrumentation",
    "track_prediction",
]
