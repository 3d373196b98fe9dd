"""The transport-independent core of the receiver: authenticate, admit, queue, wait.

Both front ends (OTLP/HTTP and OTLP/gRPC) hand a decoded export request to :meth:`Ingest.export`,
which removes items the store cannot hold (:mod:`.admission`, reported as ``partial_success``),
submits the rest to the :class:`~otel_impact.receive.batcher.BatchWriter` and blocks until the
batch holding it is written — so a success response always means "in the store".

When the sink can have the engine convert spans (``encoded_traces``; the store sink on embedded
chDB), trace requests are queued as :class:`TraceRequest`: the decoded message plus the
protobuf body as received (kept only when admission removed nothing). For a batch big enough to
pay the engine's fixed cost per statement, chDB parses and converts the encoded requests itself,
with no Python work per span (:mod:`otel_impact.store.otlp_input`); smaller batches, and batches
holding array or kvlist attribute values, take the Python conversion.

:func:`store_sink` adapts the store's writers (``write_traces`` / ``write_metrics`` /
``write_logs``) to the writer's sink interface, including the failure classification the writer
uses to bisect a batch the store refuses. The receive stage depends on the store here and only
here: received data flows into the store; the store never imports the receiver.
"""

from __future__ import annotations

import functools
import hmac
import logging
import re
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from otel_impact.receive.admission import DATETIME64_MAX_NS, Limits, admit
from otel_impact.receive.batcher import BatchWriter, Sink
from otel_impact.receive.budget import Reservation
from otel_impact.receive.protocol import Outcome, Signal, count_items
from otel_impact.receive.telemetry import ReceiverStats

BEARER = "bearer "
log = logging.getLogger(__name__)


class Ingest:
    """Admit → queue → wait for the write; counts refused items in ``stats``."""

    def __init__(
        self,
        writer: BatchWriter,
        stats: ReceiverStats,
        auth_token: str | None = None,
        limits: Limits | None = None,
        encoded_traces: bool = False,
    ) -> None:
        self.writer = writer
        self.encoded_traces = encoded_traces
        self.stats = stats
        self.limits = limits or Limits(max_partitions=writer.max_partitions)
        self._token = auth_token.encode("utf-8") if auth_token else None

    @property
    def auth_required(self) -> bool:
        return self._token is not None

    def authorized(self, header: str | None) -> bool:
        """True when no token is configured or ``header`` is ``Bearer <token>`` (constant time)."""
        if self._token is None:
            return True
        if not header or header[: len(BEARER)].lower() != BEARER:
            return False
        return hmac.compare_digest(header[len(BEARER) :].strip().encode("utf-8"), self._token)

    def export(
        self,
        signal: Signal,
        request: Any,
        reservation: Reservation | None = None,
        body: bytes | bytearray | None = None,
    ) -> Outcome:
        """Store ``request``; raise QueueFull/Closed (retry later), WriteFailed or Unstorable.

        ``reservation`` holds the request's bytes from the front end's budget (else its encoded
        size is reserved here); it is released once the request is written or refused.
        ``body``: the protobuf bytes ``request`` was decoded from, if the front end has them.
        """
        try:
            admitted = admit(signal, request, self.limits)
            self.stats.add("refused", signal, admitted.rejected)
            n = count_items(signal, request)
        except BaseException:
            if reservation is not None:
                reservation.release()
            raise
        if not n:
            if reservation is not None:
                reservation.release()
            return Outcome(admitted.rejected, admitted.message)
        size = 0 if reservation is not None else request.ByteSize()  # only reserved here without one
        payload = request
        if self.encoded_traces and signal is Signal.TRACES:
            payload = TraceRequest(
                request, n, bytes(body) if body is not None and not admitted.rejected else None
            )
        try:
            ticket = self.writer.submit(signal, payload, n, size, reservation=reservation, days=admitted.days)
        except Exception:
            self.stats.add("refused", signal, n)
            raise
        ticket.wait()
        return Outcome(admitted.rejected, admitted.message)


@dataclass(frozen=True, slots=True, eq=False)
class TraceRequest:
    """A trace request queued for a sink that may have the engine convert it: the decoded
    message, its span count and, when admission left it whole, the protobuf body it came from."""

    request: Any
    spans: int
    body: bytes | None = None

    def encoded(self) -> bytes:
        """The request's protobuf encoding (the body as received, else re-encoded)."""
        return self.body if self.body is not None else bytes(self.request.SerializeToString())


# Fewest spans in a batch for the engine-side conversion: each such INSERT … SELECT costs
# ≈35-45 ms of engine CPU before its first row (query analysis and planning of the conversion),
# the Python conversion ≈20 µs of CPU per span; measured break-even ≈2,000-3,000 spans.
ENGINE_MIN_SPANS = 3_000


def store_sink(
    client: Any, *, encoded_traces: bool | None = None, engine_min_spans: int = ENGINE_MIN_SPANS
) -> Sink:
    """A sink writing through ``otel_impact.store``'s exporter-layout writers on ``client``.

    Calls and the writes returned by ``prepare`` must only run on one thread (the batch
    writer's insert stage); ``prepare`` itself converts spans without touching the client, so
    the batch writer runs it on its other thread, overlapping conversion with the insert.
    ``encoded_traces``: let the engine convert trace batches of at least ``engine_min_spans``
    spans from their protobuf encoding (default: when ``client`` is embedded chDB; the receiver
    then queues :class:`TraceRequest` items); False keeps the Python conversion for every batch.
    A batch holding any array/kvlist attribute value is converted in Python as a whole.
    """
    if engine_min_spans < 1:
        raise ValueError(f"engine_min_spans must be >= 1, got {engine_min_spans}")
    return _StoreSink(client, encoded_traces, engine_min_spans)


# Engine error codes (ClickHouse ErrorCodes.cpp) that say the store, not the data, is the problem.
_TRANSIENT_CODES = frozenset({159, 202, 209, 210, 236, 242, 243, 252, 394, 425, 999})
# ... and those that say this data cannot be stored however often it is sent.
_DATA_CODES = frozenset({6, 27, 41, 43, 53, 69, 70, 72, 117, 131, 190, 321, 407})
_CODE = re.compile(r"Code: (\d+)\.")


def classify_store_error(exc: BaseException) -> str:
    """``"transient"``, ``"data"`` or ``"unknown"`` for a failed insert (see the batch writer).

    >>> classify_store_error(ConnectionRefusedError())
    'transient'
    >>> classify_store_error(RuntimeError("Code: 252. DB::Exception: Too many partitions for single INSERT block"))
    'data'
    """
    from clickhouse_connect.driver.exceptions import DataError, OperationalError

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError | OperationalError):
            return "transient"
        if isinstance(seen, DataError | struct.error | OverflowError):
            return "data"
        match = _CODE.search(str(seen))
        if match:
            code = int(match.group(1))
            if code == 252 and "partitions" in str(seen):  # 252 is also "too many parts" (merges)
                return "data"
            if code in _TRANSIENT_CODES:
                return "transient"
            if code in _DATA_CODES:
                return "data"
            return "unknown"
        seen = seen.__cause__
    return "unknown"


class _StoreSink:
    def __init__(self, client: Any, encoded_traces: bool | None, engine_min_spans: int) -> None:
        from otel_impact.store.writers import engine_reads_encoded, write_logs, write_metrics, write_traces

        self._client = client
        self._writers = {Signal.TRACES: write_traces, Signal.METRICS: write_metrics, Signal.LOGS: write_logs}
        self.limits = _limits(client)
        self.classify = classify_store_error
        supported = engine_reads_encoded(client)
        if encoded_traces and not supported:
            raise ValueError("encoded_traces needs an embedded chDB client (the engine reads a local file)")
        self.encoded_traces = supported if encoded_traces is None else encoded_traces
        self.engine_min_spans = engine_min_spans
        self.spans_converted = {"engine": 0, "python": 0}  # spans written, by where they were converted

    def __call__(self, signal: Signal, requests: Sequence[Any]) -> int:
        if signal is Signal.TRACES:
            return self._traces(requests)()
        result = self._writers[signal](self._client, requests)
        if isinstance(result, int):
            return result
        if isinstance(result, dict):
            return int(sum(result.values()))
        return 0

    def prepare(self, signal: Signal, requests: Sequence[Any]) -> Callable[[], int]:
        if signal is Signal.TRACES:
            return self._traces(requests)
        return functools.partial(self, signal, requests)

    def _traces(self, requests: Sequence[Any]) -> Callable[[], int]:
        """The write for a trace batch: engine-side conversion when it pays, else Python."""
        from otel_impact.store.otlp_input import plain_values
        from otel_impact.store.writers import prepare_encoded_traces, prepare_traces

        queued = [r for r in requests if isinstance(r, TraceRequest)]
        decoded = [r.request if isinstance(r, TraceRequest) else r for r in requests]
        spans = sum(r.spans for r in queued)
        if self.encoded_traces and len(queued) == len(requests) and spans >= self.engine_min_spans:
            bodies = [r.encoded() for r in queued]
            if all(plain_values(body) for body in bodies):
                return functools.partial(self._write_encoded, decoded, prepare_encoded_traces(bodies, spans))
        return functools.partial(self._write_python, prepare_traces(decoded))

    def _write_python(self, prepared: Any) -> int:
        written = int(prepared.insert(self._client))
        self.spans_converted["python"] += written
        return written

    def _write_encoded(self, decoded: Sequence[Any], prepared: Any) -> int:
        """Insert through the engine; if the engine refuses it for any reason but an unreachable
        store, write the same requests through the Python conversion instead (the failed
        statement wrote nothing: one INSERT … SELECT is all or nothing)."""
        from otel_impact.store.writers import write_traces

        try:
            written = int(prepared.insert(self._client))
        except Exception as exc:
            if classify_store_error(exc) == "transient":
                raise
            log.warning("engine-side span conversion failed (%s); converting in Python", exc)
        else:
            self.spans_converted["engine"] += written
            return written
        written = write_traces(self._client, decoded)
        self.spans_converted["python"] += written
        return written


def _limits(client: Any) -> Limits:
    """Limits for the metric tables found (``DateTime64(9)`` times on the older layout)."""
    from otel_impact import semconv
    from otel_impact.store.writers import table_types

    try:
        time_type = table_types(client, semconv.TABLE_METRICS_GAUGE).get("TimeUnix", "")
    except Exception:  # no schema yet: the newest layout's limits
        return Limits()
    return Limits(max_metric_time_ns=DATETIME64_MAX_NS) if time_type.startswith("DateTime64") else Limits()
