"""Per-item admission: remove, at decode time, every item the store could not hold.

One item the store cannot hold must never fail the insert it shares with other clients' items,
so each decoded export request is checked here before it is queued, and the items that fail a
check are removed from the request and reported back through OTLP ``partial_success``
(rejected count + message). The checks mirror the exporter tables' column types:

* ids: spans need a 16-byte trace id and an 8-byte span id; log records may omit them but must
  not carry ids of another length;
* times: span start / event times and log timestamps must fit ``DateTime64(9)`` (below 2^63 ns,
  i.e. before 2262-04-11); metric point, start and exemplar times must fit the metric tables'
  time columns (``DateTime``: before 2106-02-07; ``DateTime64(9)`` on the older layout);
* partitions: the tables are partitioned by day and the engine refuses an insert touching more
  than ``max_partitions`` days (``max_partitions_per_insert_block``), so one request keeps the
  items of its first ``max_partitions`` distinct days; later days are rejected. The days a
  request touches travel with it so the batch writer never joins requests beyond that limit.

>>> from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
>>> req = ExportTraceServiceRequest()
>>> span = req.resource_spans.add().scope_spans.add().spans.add(
...     trace_id=b"\\1" * 16, span_id=b"\\2" * 8, start_time_unix_nano=2**64 - 1)
>>> admit(Signal.TRACES, req).rejected
1
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from otel_impact.receive.protocol import Signal

NS_PER_DAY = 86_400 * 1_000_000_000
DATETIME64_MAX_NS = (1 << 63) - 1  # DateTime64(9) is Int64 nanoseconds; OTLP times are unsigned
DATETIME_MAX_NS = (1 << 32) * 1_000_000_000 - 1  # DateTime is UInt32 seconds (ns // 1e9 stored)
DEFAULT_MAX_PARTITIONS = 100  # ClickHouse's max_partitions_per_insert_block default


@dataclass(frozen=True, slots=True)
class Limits:
    """What the store's columns hold; the defaults are the newest exporter layout's."""

    max_time_ns: int = DATETIME64_MAX_NS  # spans, span events, log records
    max_metric_time_ns: int = DATETIME_MAX_NS  # metric point / start / exemplar times
    max_partitions: int = DEFAULT_MAX_PARTITIONS  # distinct days per request (and per insert)

    def __post_init__(self) -> None:
        if self.max_partitions < 1:
            raise ValueError(f"max_partitions must be >= 1, got {self.max_partitions}")


@dataclass(frozen=True, slots=True)
class Admitted:
    """The outcome of :func:`admit`: items removed, why, and the days the rest touch."""

    rejected: int = 0
    message: str = ""
    days: frozenset[int] = field(default_factory=frozenset)


class _Tally:
    """Counts rejections per reason and remembers the distinct days admitted."""

    def __init__(self, max_partitions: int) -> None:
        self.reasons: dict[str, int] = {}
        self.days: set[int] = set()
        self.max_partitions = max_partitions

    def reject(self, reason: str) -> bool:
        self.reasons[reason] = self.reasons.get(reason, 0) + 1
        return False

    def day_ok(self, ns: int) -> bool:
        day = ns // NS_PER_DAY
        if day in self.days:
            return True
        if len(self.days) >= self.max_partitions:
            return self.reject(f"more than {self.max_partitions} distinct days in one request")
        self.days.add(day)
        return True

    def outcome(self) -> Admitted:
        total = sum(self.reasons.values())
        if not total:
            return Admitted(days=frozenset(self.days))
        why = "; ".join(f"{n} {reason}" for reason, n in self.reasons.items())
        return Admitted(total, f"{total} item(s) rejected: {why}", frozenset(self.days))


def _filter(items: Any, keep: Callable[[Any], bool]) -> None:
    """Delete the elements of a repeated protobuf field for which ``keep`` is false."""
    bad = [i for i, item in enumerate(items) if not keep(item)]
    for i in reversed(bad):
        del items[i]


def _optional_ids_ok(trace_id: bytes, span_id: bytes) -> bool:
    return len(trace_id) in (0, 16) and len(span_id) in (0, 8)


def _span_ok(span: Any, limits: Limits, tally: _Tally) -> bool:
    if (
        len(span.trace_id) != 16
        or len(span.span_id) != 8
        or len(span.parent_span_id) not in (0, 8)
        or not all(_optional_ids_ok(link.trace_id, link.span_id) for link in span.links)
    ):
        return tally.reject("spans without a 16-byte traceId and an 8-byte spanId (or with a malformed id)")
    if span.start_time_unix_nano > limits.max_time_ns or any(
        e.time_unix_nano > limits.max_time_ns for e in span.events
    ):
        return tally.reject("spans with a start or event time after 2262-04-11 (DateTime64(9))")
    return tally.day_ok(span.start_time_unix_nano)


def _log_ok(record: Any, limits: Limits, tally: _Tally) -> bool:
    if not _optional_ids_ok(record.trace_id, record.span_id):
        return tally.reject("log records with a traceId not empty/16 bytes or a spanId not empty/8 bytes")
    ts = record.time_unix_nano or record.observed_time_unix_nano
    if ts > limits.max_time_ns:
        return tally.reject("log records with a time after 2262-04-11 (DateTime64(9))")
    return tally.day_ok(ts)


def _point_ok(point: Any, limits: Limits, tally: _Tally) -> bool:
    top = limits.max_metric_time_ns
    exemplars: Sequence[Any] = getattr(point, "exemplars", ())
    if not all(_optional_ids_ok(e.trace_id, e.span_id) for e in exemplars):
        return tally.reject(
            "metric points with an exemplar id not empty/16 bytes (trace) or empty/8 bytes (span)"
        )
    if (
        point.time_unix_nano > top
        or point.start_time_unix_nano > top
        or any(e.time_unix_nano > top for e in exemplars)
    ):
        return tally.reject("metric points with a time the metric tables cannot hold (after 2106-02-07)")
    return tally.day_ok(point.time_unix_nano)


def admit(signal: Signal, request: Any, limits: Limits | None = None) -> Admitted:
    """Remove the items of ``request`` the store cannot hold (in place); say how many and why."""
    limits = limits or Limits()
    tally = _Tally(limits.max_partitions)
    if signal is Signal.TRACES:
        for rs in request.resource_spans:
            for ss in rs.scope_spans:
                _filter(ss.spans, lambda s: _span_ok(s, limits, tally))
    elif signal is Signal.LOGS:
        for rl in request.resource_logs:
            for sl in rl.scope_logs:
                _filter(sl.log_records, lambda r: _log_ok(r, limits, tally))
    else:
        for rm in request.resource_metrics:
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    kind = metric.WhichOneof("data")
                    if kind is not None:
                        _filter(getattr(metric, kind).data_points, lambda p: _point_ok(p, limits, tally))
    return tally.outcome()
