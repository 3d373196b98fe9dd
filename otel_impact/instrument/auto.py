"""Zero-code instrumentation: ``opentelemetry-instrument python app.py``.

With otel-impact installed, ``opentelemetry-instrument`` loads :class:`ImpactInstrumentor` through
the ``opentelemetry_instrumentor`` entry point ``otel_impact`` and, unless the application or
another distro configures the SDK, :class:`ImpactDistro` + :class:`ImpactConfigurator` set up
tracer, meter and logger providers with OTLP exporters from the standard ``OTEL_*`` variables
(``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_EXPORTER_OTLP_PROTOCOL``, ``OTEL_TRACES_SAMPLER`` …).
Traces, metrics and logs default to the ``otlp`` exporter.

What gets wrapped (each call = one ``predict {model}`` span + metrics, see :mod:`.prediction`):

* scikit-learn estimators' ``predict``, ``predict_proba`` and ``decision_function`` (every
  ``BaseEstimator`` subclass, including ones defined after start-up — hooked when ``sklearn.base``
  is imported, so an app that never imports scikit-learn pays nothing). Model name =
  ``OTEL_IMPACT_MODEL_NAME`` or the estimator class name; version = ``OTEL_IMPACT_MODEL_VERSION``
  (default ``unknown``). Single-row calls record a score (probability of the positive class for
  binary ``predict_proba``, else the top probability; the first output of ``decision_function`` /
  a numeric ``predict``) and a label. Batch calls make one span with ``ml.prediction.count`` rows
  and no score. Calls nested inside a wrapped call (``predict`` → ``decision_function``) are not
  counted twice.
* any callables in ``OTEL_IMPACT_TARGETS="pkg.module:Class.method,pkg.module:function"``; model name
  = ``OTEL_IMPACT_MODEL_NAME`` or the class (or function) name; a numeric result is the score.

``uninstrument()`` restores every original. ``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=otel_impact``
disables all of it (the loader skips the entry point).

Why our own distro/configurator rather than depending on ``opentelemetry-distro``: the SDK's
``_OTelSDKConfigurator`` is meant to be subclassed by distros and does all the work; the only thing
``opentelemetry-distro`` adds is defaulting the exporters to ``otlp`` — three lines here, one fewer
dependency, and the log exporter (which our events need) is defaulted too. If another distro is
installed, ``OTEL_PYTHON_DISTRO`` / ``OTEL_PYTHON_CONFIGURATOR`` choose between them.
"""

from __future__ import annotations

import contextvars
import functools
import importlib
import importlib.abc
import importlib.machinery
import os
import sys
import threading
from collections.abc import Callable, Collection, Sequence
from types import ModuleType
from typing import Any

from opentelemetry.instrumentation.distro import BaseDistro  # type: ignore[attr-defined]
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]
from opentelemetry.sdk._configuration import _OTelSDKConfigurator

from otel_impact import semconv
from otel_impact.instrument._safe import log_once
from otel_impact.instrument.api import get_instrumentation
from otel_impact.instrument.prediction import Prediction

SKLEARN_METHODS = ("predict", "predict_proba", "decision_function")
DEFAULT_VERSION = "unknown"
_SKLEARN_BASE = "sklearn.base"

_active: contextvars.ContextVar[bool] = contextvars.ContextVar("otel_impact_in_model_call", default=False)


class ImpactDistro(BaseDistro):
    """Defaults traces, metrics and logs exporters to OTLP (explicit ``OTEL_*`` values win)."""

    def _configure(self, **kwargs: Any) -> None:
        for var in ("OTEL_TRACES_EXPORTER", "OTEL_METRICS_EXPORTER", "OTEL_LOGS_EXPORTER"):
            os.environ.setdefault(var, "otlp")


class ImpactConfigurator(_OTelSDKConfigurator):
    """Configures the SDK providers and OTLP exporters from ``OTEL_*`` (the SDK's own logic)."""


class ImpactInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Wraps scikit-learn estimators and ``OTEL_IMPACT_TARGETS`` callables as tracked predictions."""

    # BaseInstrumentor is a per-class singleton and ``__init__`` runs on every ``ImpactInstrumentor()``,
    # so state lives on the class-wide instance and is created in ``_instrument``, never in __init__.
    _patches: list[tuple[object, str, object, bool]]  # owner, attr, original, had its own attr
    _finder: _PostImportHook | None = None
    _model_name: str | None = None
    _version: str = DEFAULT_VERSION
    _lock = threading.Lock()

    def instrumentation_dependencies(self) -> Collection[str]:
        return ()  # scikit-learn is optional: hooked only if the app imports it

    def _instrument(self, **kwargs: Any) -> None:
        model_name = os.environ.get(semconv.ENV_MODEL_NAME) or None
        version = os.environ.get(semconv.ENV_MODEL_VERSION) or DEFAULT_VERSION
        self._model_name, self._version = model_name, version
        self._patches = []
        for target in _split_targets(os.environ.get(semconv.ENV_TARGETS, "")):
            try:
                self._wrap_target(target)
            except Exception as exc:
                log_once(f"{semconv.ENV_TARGETS} {target}", exc)
        if _SKLEARN_BASE in sys.modules:
            try:
                self._hook_sklearn(sys.modules[_SKLEARN_BASE])
            except Exception as exc:
                log_once("sklearn hook", exc)
        else:
            self._finder = _PostImportHook(_SKLEARN_BASE, self._hook_sklearn)
            sys.meta_path.insert(0, self._finder)

    def _uninstrument(self, **kwargs: Any) -> None:
        if self._finder is not None:
            if self._finder in sys.meta_path:
                sys.meta_path.remove(self._finder)
            self._finder = None
        with self._lock:
            patches, self._patches = getattr(self, "_patches", []), []
        for owner, attr, original, had_own in reversed(patches):
            if had_own:
                setattr(owner, attr, original)
            else:
                delattr(owner, attr)

    # --- patching ------------------------------------------------------------------------------
    def _patch(self, owner: object, attr: str, replacement: object) -> None:
        own = vars(owner) if isinstance(owner, type | ModuleType) else {}
        had_own = attr in own
        original = own[attr] if had_own else getattr(owner, attr, None)
        setattr(owner, attr, replacement)
        with self._lock:
            self._patches.append((owner, attr, original, had_own))

    def _wrap_target(self, target: str) -> None:
        module_name, _, qualname = target.partition(":")
        if not module_name or not qualname:
            raise ValueError(f"{semconv.ENV_TARGETS}: expected 'pkg.module:Class.method', got {target!r}")
        owner: Any = importlib.import_module(module_name)
        *path, attr = qualname.split(".")
        for part in path:
            owner = getattr(owner, part)
        raw = vars(owner)[attr] if isinstance(owner, type) else getattr(owner, attr)
        name = self._model_name or (path[-1] if path else attr)
        if isinstance(raw, staticmethod | classmethod):
            wrapped = _tracking_wrapper(raw.__func__, lambda *a: name, self._version, _score_number)
            self._patch(owner, attr, type(raw)(wrapped))
        else:
            self._patch(owner, attr, _tracking_wrapper(raw, lambda *a: name, self._version, _score_number))

    def _hook_sklearn(self, sklearn_base: ModuleType) -> None:
        base = sklearn_base.BaseEstimator
        instrumentor = self

        def patch_class(cls: type) -> None:
            # the wrapper goes on the estimator class itself (shared mixins stay untouched);
            # subclasses then inherit it, and an already wrapped method is never wrapped again
            for owner, method in _defining_classes(cls):
                fn = vars(owner).get(method)
                if callable(fn) and not getattr(fn, "_otel_impact_wrapped", False) and _is_function(fn):
                    model_of = _sklearn_model_name(instrumentor._model_name)
                    score = _sklearn_score(method)
                    instrumentor._patch(
                        cls, method, _tracking_wrapper(fn, model_of, instrumentor._version, score)
                    )

        original = vars(base).get("__init_subclass__")
        inner = original.__func__ if isinstance(original, classmethod) else original

        def __init_subclass__(cls: type, **kwargs: Any) -> None:
            if inner is not None:
                inner(cls, **kwargs)
            else:
                super(base, cls).__init_subclass__(**kwargs)  # type: ignore[misc]
            try:
                patch_class(cls)
            except Exception as exc:
                log_once("sklearn estimator patch", exc)

        self._patch(base, "__init_subclass__", classmethod(__init_subclass__))
        stack = list(base.__subclasses__())
        seen: set[type] = set()
        while stack:
            cls = stack.pop()
            if cls in seen:
                continue
            seen.add(cls)
            patch_class(cls)
            stack.extend(cls.__subclasses__())


def _defining_classes(cls: type) -> list[tuple[type, str]]:
    """(defining class, method) for each sklearn method ``cls`` resolves (mixins included)."""
    found = []
    for method in SKLEARN_METHODS:
        for klass in cls.__mro__:
            if method in vars(klass):
                found.append((klass, method))
                break
    return found


def _is_function(fn: object) -> bool:
    return type(fn).__name__ == "function"


def _split_targets(raw: str) -> list[str]:
    return [t.strip() for t in raw.split(",") if t.strip()]


def _tracking_wrapper(
    fn: Callable[..., Any],
    model_of: Callable[..., str],
    version: str,
    record: Callable[[Prediction, Sequence[Any], Any], None],
) -> Callable[..., Any]:
    """Wrap ``fn`` so each outermost call is one tracked prediction; failures never reach the host."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _active.get():
            return fn(*args, **kwargs)
        try:
            scope = get_instrumentation().track_prediction(model_of(*args), version)
        except Exception as exc:
            log_once("auto-instrumentation start", exc)
            return fn(*args, **kwargs)
        token = _active.set(True)
        try:
            with scope as prediction:
                result = fn(*args, **kwargs)
                try:
                    record(prediction, args, result)
                except Exception as exc:
                    log_once("auto-instrumentation result", exc)
            return result
        finally:
            _active.reset(token)

    wrapper._otel_impact_wrapped = True  # type: ignore[attr-defined]
    return wrapper


def _sklearn_model_name(fixed: str | None) -> Callable[..., str]:
    if fixed:
        return lambda *args: fixed
    return lambda estimator, *rest: type(estimator).__name__


def _rows(x: Any) -> int | None:
    shape = getattr(x, "shape", None)
    if shape is not None and len(shape) >= 1:
        return int(shape[0])
    try:
        return len(x)
    except TypeError:
        return None


def _sklearn_score(method: str) -> Callable[[Prediction, Sequence[Any], Any], None]:
    def record(prediction: Prediction, args: Sequence[Any], result: Any) -> None:
        rows = _rows(args[1]) if len(args) > 1 else _rows(result)
        if rows != 1:
            if rows is not None:
                prediction.record(count=rows)
            return
        first = result[0]
        if method == "predict_proba":
            probs = [float(v) for v in first]
            best = max(range(len(probs)), key=probs.__getitem__)
            classes = getattr(args[0], "classes_", None)
            label = classes[best] if classes is not None and len(classes) == len(probs) else best
            score = probs[1] if len(probs) == 2 else probs[best]
            prediction.record(score=score, label=_plain(label))
        elif method == "decision_function":
            value = first if getattr(first, "ndim", 0) == 0 and not isinstance(first, list) else first[0]
            prediction.record(score=float(value))
        else:
            value = _plain(first)
            if isinstance(value, int | float) and not isinstance(value, bool):
                prediction.record(score=float(value), label=str(value))
            else:
                prediction.record(label=str(value))

    return record


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _score_number(prediction: Prediction, args: Sequence[Any], result: Any) -> None:
    value = _plain(result)
    if isinstance(value, int | float) and not isinstance(value, bool):
        prediction.record(score=float(value))


class _PostImportHook(importlib.abc.MetaPathFinder):
    """Runs ``callback(module)`` right after module ``name`` is first imported."""

    def __init__(self, name: str, callback: Callable[[ModuleType], None]) -> None:
        self.name = name
        self.callback = callback

    def find_spec(
        self, fullname: str, path: Any, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.name:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
                spec.loader = _CallbackLoader(spec.loader, self)
                return spec
        return None


class _CallbackLoader(importlib.abc.Loader):
    def __init__(self, loader: Any, hook: _PostImportHook) -> None:
        self._loader = loader
        self._hook = hook

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)  # type: ignore[no-any-return]

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        if self._hook in sys.meta_path:
            sys.meta_path.remove(self._hook)
        try:
            self._hook.callback(module)
        except Exception as exc:
            log_once("sklearn hook", exc)
