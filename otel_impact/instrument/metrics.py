"""Prediction metrics, unsampled, with almost nothing on the request path.

Why not call the SDK instruments per prediction? Since SDK 1.45 each synchronous record costs
several microseconds (measurement object, exemplar filter, attribute cleaning and hashing,
aggregation lock); three per prediction cost more than the span itself. So the request path appends
one tuple to a ``deque`` (atomic, lock-free) and everything else happens when the metric reader
collects — in the reader's thread. Once ``metric_buffer`` predictions wait (nobody collects, or
collections are far apart) each recording thread also aggregates a few queued items per call —
more than it adds, so memory stays bounded while no single request stalls for a whole drain.
A forked child starts with an empty queue and zero counts.

At collection the queue is drained into per-series state (series = model, version and the configured
segment values, each segment key capped at ``cardinality_cap`` distinct values, later ones → ``other``):

* ``ml.predictions`` / ``ml.prediction.errors``: **ObservableCounters** reading local cumulative
  counts — O(series) per collection.
* latency ``ml.prediction.duration`` (s) and ``ml.prediction.score``, two export modes
  (``OTEL_IMPACT_METRIC_HISTOGRAMS``):

  - ``otlp`` (default): standard OTLP **histograms** ``ml.prediction.duration`` /
    ``ml.prediction.score``. The API has no observable histogram and SDK 1.45 no public way to feed
    a pre-aggregated one, so at collection each series' queued values go to the SDK histogram as
    one ``record`` plus a bulk merge of the rest into the SDK's own aggregation
    (:mod:`.histograms`: bucket counts, sum, min, max — exactly what per-value records give).
    ~1 µs of Python per prediction in total. Where the merge does not apply exactly (a view with
    other boundaries or an exponential histogram, cardinality overflow, a non-SDK meter) the values
    are replayed one ``record`` each (~7 µs per value, still off the request path).
  - ``buckets``: the same fixed buckets aggregated locally and exported as cumulative
    **ObservableCounters** ``ml.prediction.duration.bucket`` / ``ml.prediction.score.bucket`` (one
    point per bucket, attribute ``le`` = upper bound, ``+Inf`` last = count) plus ``….sum`` —
    O(series × buckets) per collection and ~1 µs of Python per prediction in total. Only for
    backends that cannot take histograms; costs the same as ``otlp`` now.

Metric attributes are only ``ml.model.name``, ``ml.model.version`` and the configured segment keys:
user, session and request ids never reach metrics. The OTel SDK rejects negative histogram values,
so negative scores (e.g. ``decision_function`` margins) stay on spans only.
"""

from __future__ import annotations

import math
import os
import threading
import weakref
from bisect import bisect_left
from collections import deque
from collections.abc import Iterable, Mapping

from opentelemetry.metrics import CallbackOptions, Meter, Observation

from otel_impact import semconv
from otel_impact.instrument._safe import log_once
from otel_impact.instrument.histograms import BulkHistogram

LATENCY_BUCKETS_S: tuple[float, ...] = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
SCORE_BUCKETS: tuple[float, ...] = tuple(round(i * 0.05, 2) for i in range(1, 20))
MODES = ("otlp", "buckets")

_INLINE_DRAIN = 4  # items a recording thread aggregates per call once the queue is over its bound
_SeriesKey = tuple[str, str, tuple[str, ...]]
# model, version, raw configured segment values, duration s, score, error, rows
_Item = tuple[str, str, tuple[object, ...], float, "float | None", bool, int]


class _Series:
    __slots__ = ("attrs", "count", "dur_buckets", "dur_sum", "errors", "score_buckets", "score_sum")

    def __init__(self, attrs: dict[str, str]) -> None:
        self.attrs = attrs
        self.count = 0
        self.errors = 0
        self.dur_buckets = [0] * (len(LATENCY_BUCKETS_S) + 1)
        self.dur_sum = 0.0
        self.score_buckets = [0] * (len(SCORE_BUCKETS) + 1)
        self.score_sum = 0.0


class SegmentLimiter:
    """Caps the distinct values of each configured segment key; extra values map to ``other``."""

    def __init__(self, keys: tuple[str, ...], cap: int) -> None:
        self.keys = keys
        self.cap = cap
        self._seen: dict[str, set[str]] = {k: set() for k in keys}
        self._absent: tuple[None, ...] = (None,) * len(keys)

    def raw(self, segment: Mapping[str, object] | None) -> tuple[object, ...]:
        """The configured keys' values as given (request path: no conversion, no limiting)."""
        if not segment:
            return self._absent
        return tuple(map(segment.get, self.keys))

    def values(self, raw: tuple[object, ...]) -> tuple[str, ...]:
        """Metric values for ``raw`` ('' when absent); called from the draining thread only."""
        out = []
        for key, value in zip(self.keys, raw, strict=True):
            if value is None:
                out.append("")
                continue
            text = value if isinstance(value, str) else str(value)
            seen = self._seen[key]
            if text not in seen:
                if len(seen) >= self.cap:
                    text = semconv.SEGMENT_OTHER
                else:
                    seen.add(text)
            out.append(text)
        return tuple(out)


def _cumulative(counts: list[int]) -> list[int]:
    total, out = 0, []
    for c in counts:
        total += c
        out.append(total)
    return out


class PredictionMetrics:
    """Queue on the request path, per-series aggregation at collection; see the module docstring."""

    def __init__(
        self,
        meter: Meter,
        segment_keys: tuple[str, ...],
        cardinality_cap: int,
        buffer: int,
        mode: str = "otlp",
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"{semconv.ENV_METRIC_HISTOGRAMS} must be one of {MODES}, got {mode!r}")
        self.mode = mode
        self._limiter = SegmentLimiter(segment_keys, cardinality_cap)
        self._seg_attr = tuple(semconv.segment_attribute(k) for k in segment_keys)
        self._keys = segment_keys
        self._buffer = buffer
        self._queue: deque[_Item] = deque()
        self._drain_lock = threading.Lock()
        self._series: dict[_SeriesKey, _Series] = {}
        if hasattr(os, "register_at_fork"):
            after_fork = weakref.WeakMethod(self._after_fork)
            os.register_at_fork(after_in_child=lambda: (m := after_fork()) and m())
        counter = meter.create_observable_counter
        counter(semconv.METRIC_PREDICTIONS, [self._observe_predictions], "{prediction}", "Predictions served")
        counter(
            semconv.METRIC_PREDICTION_ERRORS, [self._observe_errors], "{error}", "Predictions that raised"
        )
        if mode == "otlp":
            self._duration = BulkHistogram(meter.create_histogram(
                semconv.METRIC_PREDICTION_DURATION, "s", "Duration of one prediction call",
                explicit_bucket_boundaries_advisory=list(LATENCY_BUCKETS_S),
            ), LATENCY_BUCKETS_S)  # fmt: skip
            self._score = BulkHistogram(meter.create_histogram(
                semconv.METRIC_PREDICTION_SCORE, "1", "Distribution of prediction scores",
                explicit_bucket_boundaries_advisory=list(SCORE_BUCKETS),
            ), SCORE_BUCKETS)  # fmt: skip
        else:
            counter(semconv.METRIC_PREDICTION_DURATION_BUCKET, [self._observe_dur_buckets], "{call}",
                    "Prediction calls with duration <= le (cumulative buckets)")  # fmt: skip
            counter(semconv.METRIC_PREDICTION_DURATION_SUM, [self._observe_dur_sum], "s",
                    "Total duration of prediction calls")  # fmt: skip
            counter(semconv.METRIC_PREDICTION_SCORE_BUCKET, [self._observe_score_buckets], "{prediction}",
                    "Predictions with score <= le (cumulative buckets)")  # fmt: skip
            counter(semconv.METRIC_PREDICTION_SCORE_SUM, [self._observe_score_sum], "1",
                    "Sum of prediction scores")  # fmt: skip

    # --- request path --------------------------------------------------------------------------
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
        """Account one prediction call (``count`` rows for a batch call)."""
        queue = self._queue
        raw = (
            tuple(map(segment.get, self._keys)) if segment else self._limiter._absent
        )  # = _limiter.raw, inline
        queue.append((model, version, raw, duration_s, score, error, count))
        if len(queue) >= self._buffer and self._drain_lock.acquire(blocking=False):
            # over the bound (nobody collects, or collections are far apart): this thread drains a
            # few items — more than it added, so the queue shrinks, yet no request stalls for long
            try:
                self._drain(_INLINE_DRAIN)
            finally:
                self._drain_lock.release()

    # --- collection side -----------------------------------------------------------------------
    def _series_for(self, model: str, version: str, raw: tuple[object, ...]) -> _Series:
        key = (model, version, self._limiter.values(raw) if raw else ())
        series = self._series.get(key)
        if series is None:
            attrs = {semconv.ML_MODEL_NAME: model, semconv.ML_MODEL_VERSION: version}
            for name, value in zip(self._seg_attr, key[2], strict=True):
                if value:
                    attrs[name] = value
            series = self._series[key] = _Series(attrs)
        return series

    def flush(self) -> None:
        """Drain every queued prediction into series state (``otlp`` mode: into the SDK histograms)."""
        with self._drain_lock:
            self._drain(None)

    def _after_fork(self) -> None:
        # a forked worker starts from zero: the parent's queue and counts are the parent's to export
        self._queue.clear()
        self._series.clear()
        self._drain_lock = threading.Lock()

    def _drain(self, limit: int | None) -> None:
        """Aggregate up to ``limit`` queued items (all when ``None``); caller holds ``_drain_lock``.

        Items are grouped per (model, version, raw segment values) first; each group then updates
        its series once (counts, and in ``otlp`` mode one bulk histogram record per instrument).
        """
        queue = self._queue
        popleft = queue.popleft
        groups: dict[tuple[str, str, tuple[object, ...]], list] = {}  # type: ignore[type-arg]
        remaining = len(queue) if limit is None else min(limit, len(queue))
        inf = math.inf
        while remaining > 0:
            remaining -= 1
            try:
                model, version, raw, duration, score, error, count = popleft()
            except IndexError:
                break
            key = (model, version, raw)
            try:
                group = groups.get(key)
            except TypeError:  # an unhashable segment value
                raw = tuple(v if v is None else str(v) for v in raw)
                key = (model, version, raw)
                group = groups.get(key)
            if group is None:  # [series, durations, scores, rows, errors]
                group = groups[key] = [self._series_for(model, version, raw), [], [], 0, 0]
            group[1].append(duration)
            if score is not None and 0.0 <= score < inf:
                group[2].append(score)
            group[3] += count
            if error:
                group[4] += 1
        replay = self.mode == "otlp"
        for series, durations, scores, rows, errors in groups.values():
            series.count += rows
            series.errors += errors
            if replay:
                self._duration.record_many(durations, series.attrs)
                self._score.record_many(scores, series.attrs)
                continue
            dur_buckets, score_buckets = series.dur_buckets, series.score_buckets
            for duration in durations:
                dur_buckets[bisect_left(LATENCY_BUCKETS_S, duration)] += 1
            series.dur_sum += math.fsum(durations)
            for score in scores:
                score_buckets[bisect_left(SCORE_BUCKETS, score)] += 1
            series.score_sum += math.fsum(scores)

    def _snapshot(self) -> list[_Series]:
        try:
            self.flush()
        except Exception as exc:
            log_once("metrics flush", exc)
        with self._drain_lock:
            return list(self._series.values())

    def _observe_predictions(self, options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(s.count, s.attrs) for s in self._snapshot()]

    def _observe_errors(self, options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(s.errors, s.attrs) for s in self._snapshot() if s.errors]

    def _buckets(self, bounds: tuple[float, ...], which: str) -> list[Observation]:
        out = []
        labels = [*(repr(b) for b in bounds), "+Inf"]
        for s in self._snapshot():
            counts = s.dur_buckets if which == "dur" else s.score_buckets
            if which == "score" and not any(counts):
                continue
            for le, total in zip(labels, _cumulative(counts), strict=True):
                out.append(Observation(total, {**s.attrs, semconv.BUCKET_LE: le}))
        return out

    def _observe_dur_buckets(self, options: CallbackOptions) -> Iterable[Observation]:
        return self._buckets(LATENCY_BUCKETS_S, "dur")

    def _observe_score_buckets(self, options: CallbackOptions) -> Iterable[Observation]:
        return self._buckets(SCORE_BUCKETS, "score")

    def _observe_dur_sum(self, options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(s.dur_sum, s.attrs) for s in self._snapshot()]

    def _observe_score_sum(self, options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(s.score_sum, s.attrs) for s in self._snapshot() if any(s.score_buckets)]
