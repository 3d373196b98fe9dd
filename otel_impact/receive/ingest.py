"""The transport-independent core of the receiver: authenticate, validate, queue, wait.

Both front ends (OTLP/HTTP and OTLP/gRPC) hand a decoded export request to :meth:`Ingest.export`,
which removes items that cannot be stored (reported as ``partial_success``), submits the rest to
the :class:`~otel_impact.receive.batcher.BatchWriter` and blocks until the batch holding it is
written — so a success response always means "in the store".

:func:`store_sink` adapts the store's writers (``write_traces`` / ``write_metrics`` /
``write_logs``) to the writer's sink interface. The receive stage depends on the store here and
only here: received data flows into the store; the store never imports the receiver.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable, Sequence
from typing import Any

from otel_impact.receive.batcher import BatchWriter, Sink
from otel_impact.receive.protocol import Outcome, Signal, count_items, reject_invalid
from otel_impact.receive.telemetry import ReceiverStats

BEARER = "bearer "


class Ingest:
    """Validate → queue → wait for the write; counts refused items in ``stats``."""

    def __init__(self, writer: BatchWriter, stats: ReceiverStats, auth_token: str | None = None) -> None:
        self.writer = writer
        self.stats = stats
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

    def export(self, signal: Signal, request: Any) -> Outcome:
        """Store ``request``; raise QueueFull/Closed (retry later) or WriteFailed (retry)."""
        rejected, message = reject_invalid(signal, request)
        self.stats.add("refused", signal, rejected)
        n = count_items(signal, request)
        if n:
            try:
                ticket = self.writer.submit(signal, request, n, request.ByteSize())
            except Exception:
                self.stats.add("refused", signal, n)
                raise
            ticket.wait()
        return Outcome(rejected, message)


def store_sink(client: Any) -> Sink:
    """A sink writing through ``otel_impact.store``'s exporter-layout writers on ``client``.

    Calls and the writes returned by ``prepare`` must only run on one thread (the batch
    writer's insert stage); ``prepare`` itself converts spans without touching the client, so
    the batch writer runs it on its other thread, overlapping conversion with the insert.
    """
    return _StoreSink(client)


class _StoreSink:
    def __init__(self, client: Any) -> None:
        from otel_impact.store.writers import write_logs, write_metrics, write_traces

        self._client = client
        self._writers = {Signal.TRACES: write_traces, Signal.METRICS: write_metrics, Signal.LOGS: write_logs}

    def __call__(self, signal: Signal, requests: Sequence[Any]) -> int:
        result = self._writers[signal](self._client, requests)
        if isinstance(result, int):
            return result
        if isinstance(result, dict):
            return int(sum(result.values()))
        return 0

    def prepare(self, signal: Signal, requests: Sequence[Any]) -> Callable[[], int]:
        if signal is Signal.TRACES:
            from otel_impact.store.writers import prepare_traces

            prepared = prepare_traces(requests)
            return functools.partial(prepared.insert, self._client)
        return functools.partial(self, signal, requests)
