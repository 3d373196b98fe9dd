"""One tracked prediction: a ``predict {model}`` span plus locally aggregated metrics.

:class:`Prediction` is returned by ``track_prediction`` and is both the context manager and the
handle it yields (one object per prediction keeps the request path short). Entering starts the span
(made current, so spans and events inside nest under it) and sets ``id``, the ``ml.prediction.id``
to hand back to callers for outcomes; :meth:`Prediction.record` adds score/label; leaving ends the
span, records errors and accounts count/latency/score in :mod:`.metrics`.

Everything here is defensive: internal failures are logged once and the host's own result or
exception passes through unchanged.
"""

from __future__ import annotations

import itertools
import os
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


class _Ids:
    """Prediction ids: a random 64-bit per-process prefix + a 64-bit counter, 32 lowercase hex digits.

    Unique without coordination (the prefix is redrawn in forked children) and cheaper than 128
    random bits per call. Independent of the ``random`` module, so a host that seeds it does not
    get repeated ids.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.prefix = os.urandom(8).hex()
        self.counter = itertools.count()

    def new(self) -> str:
        return f"{self.prefix}{next(self.counter) & 0xFFFFFFFFFFFFFFFF:016x}"


# the per-prediction attribute keys, bound once (module globals are cheaper than module attributes)
_PREDICTION_ID = semconv.ML_PREDICTION_ID
_USER_ID, _SESSION_ID, _REQUEST_ID = semconv.USER_ID, semconv.SESSION_ID, semconv.ML_REQUEST_ID
_SCORE, _LABEL = semconv.ML_PREDICTION_SCORE, semconv.ML_PREDICTION_LABEL
_FEATURES_HASH, _FEATURES_MISSING = semconv.ML_FEATURES_HASH, semconv.ML_FEATURES_MISSING

_ids = _Ids()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_ids.reset)


def new_prediction_id() -> str:
    """A unique prediction id: 32 lowercase hex digits."""
    return _ids.new()


class Prediction:
    """One prediction: ``with track_prediction(...) as p`` → ``p.id``, ``p.record(score=…, label=…)``."""

    __slots__ = (
        "_extra",
        "_id",
        "_instr",
        "_recording",
        "_start_ns",
        "_t0",
        "_token",
        "count",
        "duration_s",
        "end_timestamp",
        "features",
        "label",
        "model",
        "request_id",
        "score",
        "segment",
        "session_id",
        "span",
        "timestamp",
        "user_id",
        "version",
    )

    def __init__(
        self,
        instr: Instrumentation,
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
        self._id = prediction_id or ""
        self.span: Span = trace.INVALID_SPAN
        self.score: float | None = None
        self.label: str | None = None
        self.count = 1
        self._recording = False
        self._extra: Mapping[str, str | bool | int | float] | None = None
        self._token: object = None
        self._start_ns = 0
        self._t0 = 0

    def __enter__(self) -> Prediction:
        try:  # the start, inline: this runs once per prediction on the request path
            instr = self._instr
            if not instr._tracer_real:
                instr.check_sdk("tracer")
            # only model and version go in at start (what a sampler may key on); everything else is
            # added in one batch when a recording span ends, so unsampled predictions skip that work
            name, attrs = instr.span_start(self.model, self.version)
            self._t0 = now = time_ns()
            start = self._start_ns = now if self.timestamp is None else self.timestamp
            span = self.span = instr.tracer.start_span(name, attributes=attrs, start_time=start)
            self._token = otel_context.attach(trace.set_span_in_context(span))
            self._recording = span.is_recording()
            features = self.features
            if instr.summaries is not None and features is not None and isinstance(features, Mapping):
                try:
                    instr.observe_features(self.model, self.version, features, start)
                except Exception as exc:
                    log_once("feature summaries", exc)
        except Exception as exc:
            log_once("track_prediction start", exc)
        return self

    @property
    def id(self) -> str:
        """The ``ml.prediction.id`` (generated on first use: unsampled spans that nobody asks skip it)."""
        pid = self._id
        if not pid:
            pid = self._id = new_prediction_id()
        return pid

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
                value = score if type(score) is float else float(score)
                if value != value:
                    raise ValueError("score is NaN")
                self.score = value
            if label is not None:
                self.label = label if isinstance(label, str) else str(label)
            if count is not None:
                self.count = int(count)
            if attributes:
                self._extra = attributes
        except Exception as exc:
            log_once("Prediction.record", exc)

    def _finish(self, exc: BaseException | None) -> None:
        token = self._token
        if token is None:
            return
        self._token = None
        span = self.span
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
        if self._recording:
            # every attribute known only now goes in with one call (one lock, one batch)
            attrs: dict[str, str | bool | int | float] = dict(self._extra) if self._extra else {}
            self._span_attributes(attrs, exc)
            span.set_attributes(attrs)
            if exc is not None:
                span.record_exception(exc, timestamp=end)
                span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
        try:
            otel_context.detach(token)  # type: ignore[arg-type]
        finally:
            span.end(end_time=end)
        metrics = self._instr.metrics
        if metrics is not None:
            metrics.record(
                self.model,
                self.version,
                self.segment,
                (end - start) / 1e9 if end > start else 0.0,
                self.score,
                exc is not None,
                self.count,
            )

    def _span_attributes(self, attrs: dict[str, str | bool | int | float], exc: BaseException | None) -> None:
        """Attributes added when a recording span ends: ids, segments, output, features, sampling, error."""
        attrs[_PREDICTION_ID] = self._id or self.id
        value: object
        if (value := self.user_id) is not None:
            attrs[_USER_ID] = value if type(value) is str else str(value)
        if (value := self.session_id) is not None:
            attrs[_SESSION_ID] = value if type(value) is str else str(value)
        if (value := self.request_id) is not None:
            attrs[_REQUEST_ID] = value if type(value) is str else str(value)
        if self.segment:
            names = self._instr._seg_attrs
            for key, value in self.segment.items():
                name = names.get(key) or self._instr.segment_attribute(key)
                attrs[name] = value if isinstance(value, str) else str(value)
        if self.score is not None:
            attrs[_SCORE] = self.score
        if self.label is not None:
            attrs[_LABEL] = self.label
        if self.count != 1:
            attrs[semconv.ML_PREDICTION_COUNT] = self.count
        adjusted = self._instr.adjusted_count(self.span)
        if adjusted is not None:
            attrs[semconv.SAMPLING_ADJUSTED_COUNT] = adjusted
        if self.features is not None:
            try:
                digest, missing = feature_fingerprint(self.features)
                attrs[_FEATURES_HASH] = digest
                if missing is not None:
                    attrs[_FEATURES_MISSING] = missing
            except Exception as exc_hash:
                log_once("features hash", exc_hash)
        if exc is not None:
            attrs[semconv.ERROR_TYPE] = type(exc).__qualname__
