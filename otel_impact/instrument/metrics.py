"""Prediction metrics with local pre-aggregation: cheap on the request path, unsampled.

Why not call the SDK instruments per prediction? Since SDK 1.45 each synchronous record costs
several microseconds (measurement object, exemplar filter, attribute hashing, aggregation lock);
three of them per prediction cost more than the span itself. So the request path only does a
dictionary lookup on a cached series key, one integer increment and two list appends under a lock.

* ``ml.predictions`` and ``ml.prediction.errors`` are **ObservableCounters** whose callbacks read the
  local cumulative counts — O(series) per collection, nothing per prediction.
* ``ml.prediction.duration`` (s) and ``ml.prediction.score`` are real OTLP **histograms** (the API
  has no observable histogram): buffered values are replayed into the synchronous SDK histograms
  from the counter callback, i.e. on the metric reader's collection thread, just before that same
  collection reads the histograms. If more than ``metric_buffer`` values wait (high traffic, long
  export interval, or no SDK reader at all) the recording thread flushes them itself, which bounds
  memory.

Metric attributes are only ``ml.model.name``, ``ml.model.version`` and the configured segment keys;
each segment key keeps at most ``cardinality_cap`` distinct values, later values become ``other``.
User, session and request ids never reach metrics. The OTel SDK rejects negative histogram values,
so negative scores (e.g. ``decision_function`` margins) are kept on spans but not in the histogram.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping

from opentelemetry.context import Context
from opentelemetry.metrics import CallbackOptions, Meter, Observation

from otel_impact import semconv
from otel_impact.instrument._safe import log_once

LATENCY_BUCKETS_S: tuple[float, ...] = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
SCORE_BUCKETS: tuple[float, ...] = tuple(round(i * 0.05, 2) for i in range(1, 20))

_EMPTY_CONTEXT = Context()  # replayed values carry no span: no exemplar from an unrelated trace
_SeriesKey = tuple[str, str, tuple[str, ...]]


class _Series:
    __slots__ = ("attrs", "count", "durations", "errors", "scores")

    def __init__(self, attrs: dict[str, str]) -> None:
        self.attrs = attrs
        self.count = 0
        self.errors = 0
        self.durations: list[float] = []
        self.scores: list[float] = []


class SegmentLimiter:
    """Caps the distinct values of each configured segment key; extra values map to ``other``."""

    def __init__(self, keys: tuple[str, ...], cap: int) -> None:
        self.keys = keys
        self.cap = cap
        self._seen: dict[str, set[str]] = {k: set() for k in keys}

    def values(self, segment: Mapping[str, object] | None) -> tuple[str, ...]:
        """The metric value of every configured key ('' when the call did not give it)."""
        if not self.keys:
            return ()
        out = []
        for key in self.keys:
            raw = segment.get(key) if segment else None
            if raw is None:
                out.append("")
                continue
            value = raw if isinstance(raw, str) else str(raw)
            seen = self._seen[key]
            if value not in seen:
                if len(seen) >= self.cap:
                    value = semconv.SEGMENT_OTHER
                else:
                    seen.add(value)  # set.add is atomic under the GIL; a race only over-admits one value
            out.append(value)
        return tuple(out)


class PredictionMetrics:
    """Local aggregation of prediction count, errors, latency and score per metric series."""

    def __init__(
        self, meter: Meter, segment_keys: tuple[str, ...], cardinality_cap: int, buffer: int
    ) -> None:
        self._limiter = SegmentLimiter(segment_keys, cardinality_cap)
        self._seg_attr = tuple(semconv.segment_attribute(k) for k in segment_keys)
        self._buffer = buffer
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._series: dict[_SeriesKey, _Series] = {}
        self._pending = 0
        self._duration = meter.create_histogram(
            semconv.METRIC_PREDICTION_DURATION,
            unit="s",
            description="Duration of one prediction call",
            explicit_bucket_boundaries_advisory=list(LATENCY_BUCKETS_S),
        )
        self._score = meter.create_histogram(
            semconv.METRIC_PREDICTION_SCORE,
            unit="1",
            description="Distribution of prediction scores",
            explicit_bucket_boundaries_advisory=list(SCORE_BUCKETS),
        )
        meter.create_observable_counter(
            semconv.METRIC_PREDICTIONS,
            callbacks=[self._observe_predictions],
            unit="{prediction}",
            description="Predictions served",
        )
        meter.create_observable_counter(
            semconv.METRIC_PREDICTION_ERRORS,
            callbacks=[self._observe_errors],
            unit="{error}",
            description="Predictions that raised",
        )

    def record(
        self,
        model: str,
        version: str,
        segment: Mapping[str, object] | None,
        duration_s: float,
        score: float | None,
        error: bool,
        count: int = 1,
    ) -> None:
        """Account one prediction call (``count`` rows for a batch call) — the request-path cost."""
        limiter = self._limiter
        key = (model, version, limiter.values(segment) if limiter.keys else ())
        series = self._series.get(key)
        if series is None:
            series = self._new_series(key)
        scored = score is not None and 0.0 <= score < math.inf
        with self._lock:
            series.count += count
            series.durations.append(duration_s)
            if scored:
                series.scores.append(score)  # type: ignore[arg-type]
            if error:
                series.errors += 1
            self._pending += 2 if scored else 1
            full = self._pending >= self._buffer
        if full:
            self.flush()

    def _new_series(self, key: _SeriesKey) -> _Series:
        model, version, seg_values = key
        attrs = {semconv.ML_MODEL_NAME: model, semconv.ML_MODEL_VERSION: version}
        for name, value in zip(self._seg_attr, seg_values, strict=True):
            if value:
                attrs[name] = value
        with self._lock:
            return self._series.setdefault(key, _Series(attrs))

    def flush(self) -> None:
        """Replay buffered latency/score values into the SDK histograms (collection thread)."""
        with self._flush_lock:
            with self._lock:
                batches = []
                for series in self._series.values():
                    if series.durations or series.scores:
                        batches.append((series.attrs, series.durations, series.scores))
                        series.durations = []
                        series.scores = []
                self._pending = 0
            for attrs, durations, scores in batches:
                record = self._duration.record
                for value in durations:
                    record(value, attrs, _EMPTY_CONTEXT)
                record = self._score.record
                for value in scores:
                    record(value, attrs, _EMPTY_CONTEXT)

    def _observe_predictions(self, options: CallbackOptions) -> Iterable[Observation]:
        try:
            self.flush()
        except Exception as exc:
            log_once("metrics flush", exc)
        with self._lock:
            return [Observation(s.count, s.attrs) for s in self._series.values()]

    def _observe_errors(self, options: CallbackOptions) -> Iterable[Observation]:
        with self._lock:
            return [Observation(s.errors, s.attrs) for s in self._series.values() if s.errors]
