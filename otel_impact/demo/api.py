"""The demo's thin bridge to the public instrumentation API, one instance per simulated service.

Each simulated service gets an ``otel_impact`` :class:`~otel_impact.instrument.core.Instrumentation`
bound to its own providers (the same object the module-level ``track_prediction`` /
``record_*`` functions use with the global providers), so each service's telemetry carries its
own ``service.name`` resource.
"""

from __future__ import annotations

from typing import Any

from otel_impact.demo.services import Service
from otel_impact.demo.world import PipelineRun
from otel_impact.instrument.core import Instrumentation

_CACHE_ATTR = "_demo_instrumentation"


def instrumentation(service: Service) -> Any:
    """The instrumentation object bound to ``service``'s providers (created once)."""
    instr = getattr(service, _CACHE_ATTR, None)
    if instr is None:
        instr = Instrumentation(
            tracer_provider=service.tracer_provider,
            meter_provider=service.meter_provider,
            logger_provider=service.logger_provider,
        )
        setattr(service, _CACHE_ATTR, instr)
    return instr


def predict(
    service: Service,
    model: str,
    version: str,
    *,
    score: float,
    label: str,
    attributes: dict[str, str] | None = None,
    **kwargs: Any,
) -> tuple[str, bool]:
    """One tracked prediction; returns its ``ml.prediction.id`` and whether its span was sampled in.

    ``attributes`` go on the span with the model output (the experiment arm, for instance).
    """
    with instrumentation(service).track_prediction(model, version, **kwargs) as p:
        p.record(score=score, label=label, attributes=attributes)
        recorded = bool(p.span.is_recording())
    return str(p.id), recorded


def outcome(service: Service, prediction_id: str, *, label: str, timestamp: int) -> None:
    """The ground-truth ``ml.outcome`` event of a prediction."""
    instrumentation(service).record_outcome(prediction_id, label=label, timestamp=timestamp)


def business(service: Service, name: str, **kwargs: Any) -> None:
    """A ``business.<name>`` event."""
    instrumentation(service).record_business_event(name, **kwargs)


def pipeline(service: Service, run: PipelineRun) -> None:
    """A ``pipeline.run`` or ``pipeline.incident`` event of the simulated feature platform."""
    instrumentation(service).record_pipeline_event(
        run.pipeline,
        status=run.status,
        dataset=run.dataset,
        data_version=run.data_version,
        change=run.change,
        kind="incident" if run.event == "incident" else "run",
        timestamp=run.ts_ns,
    )
