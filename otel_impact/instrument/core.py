"""``Instrumentation``: the instrumentation API bound to a set of OTel providers.

The module-level functions (``otel_impact.track_prediction`` …) use a default instance bound to the
global providers. Create your own instance to use explicit providers — e.g. a simulator running
several services in one process, each with its own ``service.name`` resource::

    from otel_impact.instrument import Instrumentation

    recommender = Instrumentation(tracer_provider=tp, meter_provider=mp, logger_provider=lp)
    with recommender.track_prediction("ranker", "v2", user_id="u1") as p:
        p.record(score=0.87)
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Mapping
from time import time_ns
from typing import Any, Concatenate, ParamSpec, TypeVar

from opentelemetry import _logs, metrics, trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.trace import Span

from otel_impact import semconv
from otel_impact.instrument._safe import log_once
from otel_impact.instrument.events import EventsMixin
from otel_impact.instrument.features import FeatureSummaries
from otel_impact.instrument.metrics import PredictionMetrics
from otel_impact.instrument.prediction import Prediction
from otel_impact.instrument.sampling import adjusted_count_for_sampler, has_threshold
from otel_impact.instrument.sdk import warn_if_no_sdk
from otel_impact.instrument.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])
P = ParamSpec("P")
_VERSION = "0.1.0"


def _prediction_method(
    cls: Callable[Concatenate[Instrumentation, P], Prediction],
) -> Callable[Concatenate[Instrumentation, P], Prediction]:
    """``Instrumentation.track_prediction``: the :class:`Prediction` constructor bound to an instance
    (one parameter list, the constructor's, serves the method and ``otel_impact.track_prediction``)."""

    def track_prediction(self: Instrumentation, /, *args: P.args, **kwargs: P.kwargs) -> Prediction:
        """Context manager around one prediction; yields itself, a :class:`Prediction` (``p.id``, ``p.record``).

        Arguments: ``model``, ``version`` (non-empty strings), then keyword-only ``user_id``,
        ``session_id``, ``request_id``, ``segment`` (mapping), ``features`` (vector or mapping,
        hashed), ``prediction_id`` (default: generated) and ``timestamp``/``duration_s``/
        ``end_timestamp``: ``timestamp`` (ns since epoch) sets the span start for replayed or
        simulated traffic; the end is ``end_timestamp``, else ``timestamp + duration_s``, else
        ``timestamp`` + the measured duration. Real services leave all three unset.

        >>> with Instrumentation().track_prediction("ranker", "v2", user_id="u1") as p:
        ...     p.record(score=0.87, label="click")
        """
        return cls(self, *args, **kwargs)

    sig = inspect.signature(cls)  # (instr, model, version, *, …): instr becomes the bound self
    self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)
    params = [self_param, *list(sig.parameters.values())[1:]]
    track_prediction.__signature__ = sig.replace(parameters=params, return_annotation=cls)  # type: ignore[attr-defined]
    return track_prediction


class Instrumentation(EventsMixin):
    """Prediction spans, metrics and events emitted through the given (or global) providers.

    ``settings`` defaults to :meth:`Settings.from_env` (``OTEL_IMPACT_*`` variables).
    """

    def __init__(
        self,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
        logger_provider: _logs.LoggerProvider | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.settings = settings or Settings.from_env()
        self._tracer_provider = tracer_provider
        self._logger_provider = logger_provider
        # set once a real (SDK) provider is seen; until then each record checks for a no-op one
        self._tracer_real = False
        self._logger_real = False
        self.tracer = trace.get_tracer(
            semconv.INSTRUMENTATION_SCOPE, _VERSION, tracer_provider=tracer_provider
        )
        meter = metrics.get_meter(semconv.INSTRUMENTATION_SCOPE, _VERSION, meter_provider=meter_provider)
        self.metrics: PredictionMetrics | None = None
        try:
            self.metrics = PredictionMetrics(
                meter,
                self.settings.segment_keys,
                self.settings.cardinality_cap,
                self.settings.metric_buffer,
                self.settings.histograms,
            )
        except Exception as exc:
            log_once("metric instruments", exc)
        self.logger = _logs.get_logger(
            semconv.INSTRUMENTATION_SCOPE, _VERSION, logger_provider=logger_provider
        )
        self.summaries: FeatureSummaries | None = None
        if self.settings.feature_summaries:
            self.summaries = FeatureSummaries(
                self.settings.feature_summary_max_features,
                int(self.settings.feature_summary_interval_s * 1e9),
            )
        self._starts: dict[tuple[str, str], tuple[str, dict[str, str]]] = {}
        self._seg_attrs: dict[str, str] = {}
        self._sampler: object = None
        self._sampler_adjusted: float | None = None

    # --- small caches used on the request path -------------------------------------------------
    def span_start(self, model: str, version: str) -> tuple[str, dict[str, str]]:
        """(span name, cached never-mutated start attributes) of a prediction of ``model``/``version``.

        Validates both on a cache miss only: a cached pair was valid when it was stored.
        """
        key = (model, version)
        found = self._starts.get(key)
        if found is None:
            for name, value in (("model", model), ("version", version)):
                if not isinstance(value, str) or not value:
                    raise ValueError(f"track_prediction: {name} must be a non-empty string, got {value!r}")
            found = (
                semconv.prediction_span_name(model),
                {semconv.ML_MODEL_NAME: model, semconv.ML_MODEL_VERSION: version},
            )
            if len(self._starts) < 10_000:
                self._starts[key] = found
        return found

    def segment_attribute(self, key: str) -> str:
        name = self._seg_attrs.get(key)
        if name is None:
            name = semconv.segment_attribute(key)
            if len(self._seg_attrs) < 10_000:
                self._seg_attrs[key] = name
        return name

    def adjusted_count(self, span: Span) -> float | None:
        """``sampling.adjusted_count`` for ``span``, or ``None`` when not needed.

        ``None`` when the trace state carries an OTel sampling threshold (``ot=th:…``, which the
        store converts itself) or when the sampler is not probability-based; otherwise
        ``1 / rate`` of the (root) ``TraceIdRatioBased`` sampler.
        """
        trace_state = span.get_span_context().trace_state
        if trace_state and has_threshold(trace_state):
            return None
        provider = self._tracer_provider
        if provider is None:
            provider = trace.get_tracer_provider()
        sampler = getattr(provider, "sampler", None)
        if sampler is not self._sampler:
            self._sampler_adjusted = adjusted_count_for_sampler(sampler)
            self._sampler = sampler
        return self._sampler_adjusted

    def check_sdk(self, kind: str) -> None:
        """Warn once per process when predictions (``kind="tracer"``) or events (``"logger"``) go to
        a no-op provider: nothing installed an SDK (see :func:`otel_impact.configure`)."""
        try:
            if kind == "tracer":
                provider: object = self._tracer_provider or trace.get_tracer_provider()
                self._tracer_real = warn_if_no_sdk(provider, kind)
            else:
                provider = self._logger_provider or _logs.get_logger_provider()
                self._logger_real = warn_if_no_sdk(provider, kind)
        except Exception as exc:
            log_once("SDK check", exc)

    # --- predictions ---------------------------------------------------------------------------
    track_prediction = _prediction_method(Prediction)

    def instrument_model(
        self,
        model: str,
        version: str,
        *,
        segment_from: Callable[..., Mapping[str, object] | None] | None = None,
        features_from: Callable[..., object] | None = None,
        ids_from: Callable[..., Mapping[str, object] | None] | None = None,
        score_from: Callable[[Any], object] | None = None,
        label_from: Callable[[Any], object] | None = None,
    ) -> Callable[[F], F]:
        """Decorator: every call of the wrapped function or method is one tracked prediction.

        ``segment_from``/``features_from``/``ids_from`` receive the call's arguments (``self``
        included for methods); ``ids_from`` returns ``user_id``/``session_id``/``request_id`` keys.
        ``score_from``/``label_from`` receive the result; by default a numeric result is the score.
        A failing helper costs one warning, never the call. Coroutine functions are supported.
        """

        def extract(call_args: tuple[Any, ...], call_kwargs: dict[str, Any]) -> dict[str, Any]:
            found: dict[str, Any] = {}
            for key, fn in (("segment", segment_from), ("features", features_from)):
                if fn is not None:
                    try:
                        found[key] = fn(*call_args, **call_kwargs)
                    except Exception as exc:
                        log_once(f"instrument_model {key}_from", exc)
            if ids_from is not None:
                try:
                    ids = ids_from(*call_args, **call_kwargs) or {}
                    for key in ("user_id", "session_id", "request_id"):
                        if ids.get(key) is not None:
                            found[key] = ids[key]
                except Exception as exc:
                    log_once("instrument_model ids_from", exc)
            return found

        def record(prediction: Prediction, result: Any) -> None:
            try:
                score = score_from(result) if score_from is not None else _default_score(result)
                label = label_from(result) if label_from is not None else None
                prediction.record(score=score, label=label)  # type: ignore[arg-type]
            except Exception as exc:
                log_once("instrument_model result", exc)

        def decorate(fn: F) -> F:
            if inspect.iscoroutinefunction(fn):

                @functools.wraps(fn)
                async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                    with self.track_prediction(model, version, **extract(args, kwargs)) as p:
                        result = await fn(*args, **kwargs)
                        record(p, result)
                    return result

                return async_wrapper  # type: ignore[return-value]

            @functools.wraps(fn)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                with self.track_prediction(model, version, **extract(args, kwargs)) as p:
                    result = fn(*args, **kwargs)
                    record(p, result)
                return result

            return wrapper  # type: ignore[return-value]

        return decorate

    # --- feature summaries ---------------------------------------------------------------------
    def observe_features(
        self, model: str, version: str, features: Mapping[object, object], now_ns: int
    ) -> None:
        summaries = self.summaries
        if summaries is not None and summaries.observe(model, version, features, now_ns):
            self.flush_feature_summaries(timestamp=now_ns)

    def flush_feature_summaries(self, timestamp: int | None = None) -> None:
        """Emit one ``ml.feature.summary`` event per tracked feature and start a new window."""
        if self.summaries is None:
            return
        try:
            ts = timestamp if timestamp is not None else time_ns()
            for model, version, name, stats in self.summaries.drain():
                attrs: dict[str, str | int | float] = {
                    semconv.ML_MODEL_NAME: model,
                    semconv.ML_MODEL_VERSION: version,
                    semconv.ML_FEATURE_NAME: name,
                    semconv.ML_FEATURE_COUNT: stats.count,
                    semconv.ML_FEATURE_MISSING: stats.missing,
                }
                if stats.count > stats.missing:
                    attrs[semconv.ML_FEATURE_MEAN] = stats.mean
                    attrs[semconv.ML_FEATURE_MIN] = stats.minimum
                    attrs[semconv.ML_FEATURE_MAX] = stats.maximum
                self.logger.emit(
                    timestamp=ts,
                    severity_number=SeverityNumber.INFO,
                    event_name=semconv.EVENT_FEATURE_SUMMARY,
                    attributes=attrs,
                )
        except Exception as exc:
            log_once("flush_feature_summaries", exc)

    def flush_metrics(self) -> None:
        """Hand buffered latency/score values to the SDK histograms now (e.g. before shutdown)."""
        try:
            if self.metrics is not None:
                self.metrics.flush()
        except Exception as exc:
            log_once("flush_metrics", exc)


def _default_score(result: Any) -> float | None:
    if isinstance(result, bool):
        return None
    if isinstance(result, int | float) and math.isfinite(result):
        return float(result)
    return None
