"""Module-level API bound to the global OTel providers (``otel_impact.track_prediction`` …).

The default :class:`Instrumentation` is created on first use, so the application (or
``opentelemetry-instrument``) may install its providers after importing ``otel_impact``; the API's
proxy tracer/meter/logger pick them up. Settings are read from ``OTEL_IMPACT_*`` at that moment.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable, Mapping
from typing import Any, Concatenate, ParamSpec, TypeVar

from otel_impact.instrument.core import Instrumentation

F = TypeVar("F", bound=Callable[..., Any])
P = ParamSpec("P")
R = TypeVar("R")

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


def _on_default(method: Callable[Concatenate[Instrumentation, P], R]) -> Callable[P, R]:
    """The module-level twin of an :class:`Instrumentation` method: the same call on the default instance.

    One parameter list (the method's) serves both; signature and docstring are the method's.
    """
    name = method.__name__

    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        return getattr(get_instrumentation(), name)(*args, **kwargs)  # type: ignore[no-any-return]

    functools.update_wrapper(call, method)
    del call.__wrapped__  # type: ignore[attr-defined]  # so doctest and help() see this function
    sig = inspect.signature(method)
    call.__signature__ = sig.replace(parameters=list(sig.parameters.values())[1:])  # type: ignore[attr-defined]
    call.__module__ = __name__
    return call


track_prediction = _on_default(Instrumentation.track_prediction)
record_business_event = _on_default(Instrumentation.record_business_event)
record_outcome = _on_default(Instrumentation.record_outcome)
record_pipeline_event = _on_default(Instrumentation.record_pipeline_event)


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
