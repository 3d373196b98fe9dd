"""Module-level API bound to the global OTel providers (``otel_impact.track_prediction`` …).

The default :class:`Instrumentation` is created on first use, so the application (or
``opentelemetry-instrument``) may install its providers after importing ``otel_impact``; the API's
proxy tracer/meter/logger pick them up. Settings are read from ``OTEL_IMPACT_*`` at that moment.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar

from otel_impact.instrument.core import Instrumentation
from otel_impact.instrument.events import AttributeValue
from otel_impact.instrument.prediction import Prediction

F = TypeVar("F", bound=Callable[..., Any])

_default: Instrumentation | None = None
_lock = threading.Lock()


def get_instrumentation() -> Instrumentation:
    """The process-wide default instance (bound to the global providers)."""
    global _default
    instr = _default
    if instr is None:
        with _lock:
            if _default is None:
                _default = Instrumentation()
            instr = _default
    return instr


def set_instrumentation(instr: Instrumentation | None) -> None:
    """Replace the default instance (``None``: rebuild from globals and env on next use)."""
    global _default
    with _lock:
        _default = instr


def track_prediction(
    model: str,
    version: str,
    *,
    user_id: object = None,
    session_id: object = None,
    request_id: object = None,
    segment: Mapping[str, object] | None = None,
    features: object = None,
    timestamp: int | None = None,
    duration_s: float | None = None,
    end_timestamp: int | None = None,
    prediction_id: str | None = None,
) -> Prediction:
    """Track one prediction of ``model``/``version``: see :meth:`Instrumentation.track_prediction`.

    >>> from otel_impact import track_prediction
    >>> with track_prediction("ranker", "v2", user_id="u1", segment={"platform": "mobile"}) as p:
    ...     p.record(score=0.87, label="click")
    """
    return get_instrumentation().track_prediction(
        model, version, user_id=user_id, session_id=session_id, request_id=request_id,
        segment=segment, features=features, timestamp=timestamp, duration_s=duration_s,
        end_timestamp=end_timestamp, prediction_id=prediction_id,
    )  # fmt: skip


def instrument_model(
    model: str,
    version: str,
    *,
    segment_from: Callable[..., Mapping[str, object] | None] | None = None,
    features_from: Callable[..., object] | None = None,
    ids_from: Callable[..., Mapping[str, object] | None] | None = None,
    score_from: Callable[[Any], object] | None = None,
    label_from: Callable[[Any], object] | None = None,
) -> Callable[[F], F]:
    """Decorator tracking every call as a prediction: see :meth:`Instrumentation.instrument_model`.

    >>> from otel_impact import instrument_model
    >>> @instrument_model("ranker", "v2", segment_from=lambda user: {"platform": user["platform"]})
    ... def rank(user):
    ...     return 0.5
    """
    instr_ref: list[Instrumentation] = []

    def decorate(fn: F) -> F:
        # resolve the default lazily, at the first call, so decorating at import time is safe
        def bound(*args: Any, **kwargs: Any) -> Any:
            if not instr_ref:
                instr_ref.append(get_instrumentation())
            return instr_ref[0]

        return _LazyDecorator(bound, fn, model, version, segment_from, features_from, ids_from,
                              score_from, label_from).wrapped  # type: ignore[return-value]  # fmt: skip

    return decorate


class _LazyDecorator:
    """Wraps ``fn`` with the default instance's decorator on its first call."""

    def __init__(self, resolve: Callable[..., Instrumentation], fn: Callable[..., Any], model: str,
                 version: str, *helpers: Any) -> None:  # fmt: skip
        import functools
        import inspect

        self._inner: Callable[..., Any] | None = None

        def inner() -> Callable[..., Any]:
            if self._inner is None:
                names = ("segment_from", "features_from", "ids_from", "score_from", "label_from")
                kwargs = dict(zip(names, helpers, strict=True))
                self._inner = resolve().instrument_model(model, version, **kwargs)(fn)
            return self._inner

        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def wrapped_async(*args: Any, **kwargs: Any) -> Any:
                return await inner()(*args, **kwargs)

            self.wrapped: Callable[..., Any] = wrapped_async
        else:

            @functools.wraps(fn)
            def wrapped(*args: Any, **kwargs: Any) -> Any:
                return inner()(*args, **kwargs)

            self.wrapped = wrapped


def record_business_event(
    name: str,
    value: float | None = None,
    *,
    currency: str | None = None,
    user_id: object = None,
    session_id: object = None,
    prediction_id: str | None = None,
    request_id: object = None,
    attributes: Mapping[str, AttributeValue] | None = None,
    timestamp: int | None = None,
) -> None:
    """Emit a ``business.<name>`` event: see :meth:`Instrumentation.record_business_event`.

    >>> from otel_impact import record_business_event
    >>> record_business_event("purchase", value=42.0, currency="EUR", user_id="u1")
    """
    get_instrumentation().record_business_event(
        name, value, currency=currency, user_id=user_id, session_id=session_id,
        prediction_id=prediction_id, request_id=request_id, attributes=attributes, timestamp=timestamp,
    )  # fmt: skip


def record_outcome(
    prediction_id: str,
    label: object = None,
    value: float | None = None,
    *,
    model: str | None = None,
    version: str | None = None,
    attributes: Mapping[str, AttributeValue] | None = None,
    timestamp: int | None = None,
) -> None:
    """Emit an ``ml.outcome`` event for ``prediction_id``: see :meth:`Instrumentation.record_outcome`."""
    get_instrumentation().record_outcome(
        prediction_id, label, value, model=model, version=version, attributes=attributes, timestamp=timestamp
    )


def record_pipeline_event(
    pipeline: str,
    status: str,
    *,
    dataset: str | None = None,
    data_version: str | None = None,
    change: str | None = None,
    kind: Literal["run", "incident"] = "run",
    attributes: Mapping[str, AttributeValue] | None = None,
    timestamp: int | None = None,
) -> None:
    """Emit ``pipeline.run``/``pipeline.incident``: see :meth:`Instrumentation.record_pipeline_event`."""
    get_instrumentation().record_pipeline_event(
        pipeline, status, dataset=dataset, data_version=data_version, change=change, kind=kind,
        attributes=attributes, timestamp=timestamp,
    )  # fmt: skip
