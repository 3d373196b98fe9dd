"""Module-level API bound to the global OTel providers (``otel_impact.track_prediction`` …).

The default :class:`Instrumentation` is created on first use, so the application (or
``opentelemetry-instrument``) may install its providers after importing ``otel_impact``; the API's
proxy tracer/meter/logger pick them up. Settings are read from ``OTEL_IMPACT_*`` at that moment.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from otel_impact.instrument.core import Instrumentation

F = TypeVar("F", bound=Callable[..., Any])
P = ParamSpec("P")
R = TypeVar("R")
G = TypeVar("G", bound=Callable[..., Any])

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

    return _dressed_as(call, method)


def _dressed_as(fn: G, method: Callable[..., Any]) -> G:
    """``fn`` with ``method``'s name, docstring and signature minus ``self`` (for doctest, help(), IDEs)."""
    functools.update_wrapper(fn, method)
    del fn.__wrapped__  # type: ignore[attr-defined]  # so doctest and help() see this function itself
    sig = inspect.signature(method)
    fn.__signature__ = sig.replace(parameters=list(sig.parameters.values())[1:])  # type: ignore[attr-defined]
    fn.__module__ = __name__
    return fn


track_prediction = _on_default(Instrumentation.track_prediction)
record_business_event = _on_default(Instrumentation.record_business_event)
record_outcome = _on_default(Instrumentation.record_outcome)
record_pipeline_event = _on_default(Instrumentation.record_pipeline_event)


def _lazily(
    method: Callable[Concatenate[Instrumentation, P], Callable[[F], F]],
) -> Callable[P, Callable[[F], F]]:
    """The module-level ``instrument_model``: the method's decorator, resolved on the default instance
    at the wrapped function's first call (so decorating at import time, before providers exist, is safe).
    """

    def instrument_model(*args: P.args, **kwargs: P.kwargs) -> Callable[[F], F]:
        def decorate(fn: F) -> F:
            return _lazy_wrapper(
                fn, lambda: getattr(get_instrumentation(), method.__name__)(*args, **kwargs)(fn)
            )

        return decorate

    return _dressed_as(instrument_model, method)


def _lazy_wrapper(fn: F, build: Callable[[], Callable[..., Any]]) -> F:
    """``fn`` wrapped so that the real wrapper is built by ``build()`` at the first call."""
    built: list[Callable[..., Any]] = []

    def inner() -> Callable[..., Any]:
        if not built:
            built.append(build())
        return built[0]

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def wrapped_async(*args: Any, **kwargs: Any) -> Any:
            return await inner()(*args, **kwargs)

        return wrapped_async  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        return inner()(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


instrument_model = _lazily(Instrumentation.instrument_model)
