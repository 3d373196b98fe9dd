"""The prediction scope: one ``predict {model}`` span plus locally aggregated metrics.

``PredictionScope`` is the context manager returned by ``track_prediction``; entering it starts the
span (made current, so spans and events inside nest under it) and yields a :class:`Prediction`
handle whose ``id`` is the ``ml.prediction.id`` to hand back to callers for outcomes. Leaving it
ends the span, records errors, and accounts count/latency/score in :mod:`.metrics`.

Everything here is defensive: internal failures are logged once and the host's own result or
exception passes through unchanged.
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Mapping
from time import time_ns
from types import TracebackType
from typing import TYPE_CHECKING, Literal

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode

from otel_impact import semconv
from otel_impact.instrument._safe import log_once
from otel_impact.instrument.features import feature_fingerprint

if TYPE_CHECKING:
    from otel_impact.instrument.core import Instrumentation

_rng = random.Random()  # private: a host that seeds `random` must not get repeated prediction ids
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_rng.seed)


def new_prediction_id() -> str:
    """A random 128-bit prediction id as 32 lowercase hex digits."""
    return f"{_rng.getrandbits(128):032x}"


class Prediction:
    """Handle yielded by ``track_prediction``: ``id`` plus :meth:`record` for the model's output."""

    __slots__ = ("_recording", "count", "id", "label", "score", "span")

    def __init__(self, prediction_id: str, span: Span, recording: bool) -> None:
        self.id = prediction_id
        self.span = span
        self.score: float | None = None
        self.label: str | None = None
        self.count = 1
        self._recording = recording

    def record(
        self,
        score: float | None = None,
        label: object = None,
        *,
        count: int | None = None,
        attributes: Mapping[str, str | bool | int | float] | None = None,
    ) -> None:
        """Record the model output: ``score`` (number), ``label`` (stringified), ``count`` rows.

        ``count`` is for batch calls (one span scoring several rows; sets ``ml.prediction.count``).
        Never raises: a non-numeric score is dropped with a one-time warning.
        """
        try:
            if score is not None:
                value = float(score)
                if math.isnan(value):
                    raise ValueError("score is NaN")
                self.score = value
                if self._recording:
                    self.span.set_attribute(semconv.ML_PREDICTION_SCORE, value)
            if label is not None:
                self.label = label if isinstance(label, str) else str(label)
                if self._recording:
                    self.span.set_attribute(semconv.ML_PREDICTION_LABEL, self.label)
            if count is not None:
                self.count = int(count)
                if self._recording:
                    self.span.set_attribute(semconv.ML_PREDICTION_COUNT, self.count)
            if attributes and self._recording:
                self.span.set_attributes(attributes)
        except Exception as exc:
            log_once("Prediction.record", exc)


class PredictionScope:
    """Context manager for one prediction; see ``Instrumentation.track_prediction``."""

    __slots__ = (
        "_instr",
        "_prediction",
        "_start_ns",
        "_t0",
        "_token",
        "duration_s",
        "end_timestamp",
        "features",
        "model",
        "prediction_id",
        "request_id",
        "segment",
        "session_id",
        "timestamp",
        "user_id",
        "version",
    )

    def __init__(
        self,
        instr: Instrumentation,
        model: str,
        version: str,
        user_id: object,
        session_id: object,
        request_id: object,
        segment: Mapping[str, object] | None,
        features: object,
        timestamp: int | None,
        duration_s: float | None,
        end_timestamp: int | None,
        prediction_id: str | None,
    ) -> None:
        self._instr = instr
        self.model = model
        self.version = version
        self.user_id = user_id
        self.session_id = session_id
        self.request_id = request_id
        self.segment = segment
        self.features = features
        self.timestamp = timestamp
        self.duration_s = duration_s
        self.end_timestamp = end_timestamp
        self.prediction_id = prediction_id
        self._prediction: Prediction | None = None
        self._token: object = None
        self._start_ns = 0
        self._t0 = 0

    def __enter__(self) -> Prediction:
        try:
            self._prediction = self._start()
        except Exception as exc:
            log_once("track_prediction start", exc)
            self._prediction = Prediction(
                self.prediction_id or new_prediction_id(), trace.INVALID_SPAN, False
            )
        return self._prediction

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        try:
            self._finish(exc)
        except Exception as internal:
            log_once("track_prediction end", internal)
        return False  # never swallow the host's exception

    def _start(self) -> Prediction:
        instr = self._instr
        pid = self.prediction_id or new_prediction_id()
        attrs: dict[str, str | float] = {
            semconv.ML_MODEL_NAME: self.model,
            semconv.ML_MODEL_VERSION: self.version,
            semconv.ML_PREDICTION_ID: pid,
        }
        if self.user_id is not None:
            attrs[semconv.USER_ID] = str(self.user_id)
        if self.session_id is not None:
            attrs[semconv.SESSION_ID] = str(self.session_id)
        if self.request_id is not None:
            attrs[semconv.ML_REQUEST_ID] = str(self.request_id)
        if self.segment:
            seg_attr = instr.segment_attribute
            for key, value in self.segment.items():
                attrs[seg_attr(key)] = value if isinstance(value, str) else str(value)
        self._t0 = now = time_ns()
        start = self._start_ns = now if self.timestamp is None else self.timestamp
        span = instr.tracer.start_span(instr.span_name(self.model), attributes=attrs, start_time=start)
        self._token = otel_context.attach(trace.set_span_in_context(span))
        recording = span.is_recording()
        features = self.features
        if recording:  # attribute work only for spans that will be exported
            extra: dict[str, str | int | float] = {}
            adjusted = instr.adjusted_count(span)
            if adjusted is not None:
                extra[semconv.SAMPLING_ADJUSTED_COUNT] = adjusted
            if features is not None:
                try:
                    digest, missing = feature_fingerprint(features)
                    extra[semconv.ML_FEATURES_HASH] = digest
                    if missing is not None:
                        extra[semconv.ML_FEATURES_MISSING] = missing
                except Exception as exc:
                    log_once("features hash", exc)
            if extra:
                span.set_attributes(extra)
        if features is not None and instr.summaries is not None and isinstance(features, Mapping):
            try:
                instr.observe_features(self.model, self.version, features, start)
            except Exception as exc:
                log_once("feature summaries", exc)
        return Prediction(pid, span, recording)

    def _finish(self, exc: BaseException | None) -> None:
        prediction = self._prediction
        if prediction is None or self._token is None:
            return
        span = prediction.span
        t1 = time_ns()
        start = self._start_ns
        if self.timestamp is None:
            end = t1
        elif self.end_timestamp is not None:
            end = self.end_timestamp
        elif self.duration_s is not None:
            end = start + int(self.duration_s * 1e9)
        else:
            end = start + (t1 - self._t0)
        if exc is not None and prediction._recording:
            span.set_attribute(semconv.ERROR_TYPE, type(exc).__qualname__)
            span.record_exception(exc, timestamp=end)
            span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
        try:
            otel_context.detach(self._token)  # type: ignore[arg-type]
        finally:
            self._token = None
            span.end(end_time=end)
        metrics = self._instr.metrics
        if metrics is not None:
            metrics.record(
                self.model,
                self.version,
                self.segment,
                max(end - start, 0) / 1e9,
                prediction.score,
                exc is not None,
                prediction.count,
            )
