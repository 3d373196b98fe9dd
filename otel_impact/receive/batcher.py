"""A bounded queue and one writer thread that batches export requests into the store.

Why this shape: chDB (and ClickHouse) like few large inserts, and an embedded store must be used
by one thread. Front-end threads ``submit`` decoded requests and then wait on the returned
:class:`Ticket`; the writer thread takes everything queued (up to ``max_batch_items``, lingering
``flush_interval`` for more), writes each signal's requests with a single sink call, and only then
resolves the tickets. So a client is acknowledged only after its data is in the store.

Pipelining: when the sink also has ``prepare(signal, requests) -> write`` (the store sink does:
it converts spans to columns), one thread takes and prepares batch N+1 while a second thread
runs batch N's ``write()``. chDB releases the GIL while it inserts, so conversion and insertion
overlap; the guarantee is unchanged (tickets resolve only after their ``write()`` succeeded).
Every chDB insert also has a fixed cost (≈10–30 ms of CPU for creating parts, measured), so
while an insert runs the next batch is taken early only once ``pipeline_min_items`` are queued;
with fewer (few concurrent clients) the writer waits for the insert and then takes everything
queued, as one big batch. A sink without ``prepare`` is written by one thread, as before.

Back-pressure: ``submit`` raises :class:`QueueFull` when the items pending (queued + being
written) would exceed ``max_queue_items`` or their bytes the :class:`~.budget.MemoryBudget` of
``max_queue_bytes`` (front ends reserve a request's bytes before reading its body and hand the
reservation over); the front ends turn that into HTTP 429 / gRPC UNAVAILABLE so OTLP clients
retry later. A batch never joins requests touching more than ``max_partitions`` distinct days
(the engine's partitions-per-insert limit).

Failures: one request must never fail its neighbours. A sink may offer ``classify(exc)``
returning ``"transient"`` (store unreachable: retrying helps, splitting does not), ``"data"``
(this batch cannot be stored: retrying does not help) or ``"unknown"``; without it every error
is transient. A transient failure is retried with exponential backoff; after ``retries``
attempts the tickets fail (the client gets 503/UNAVAILABLE and retries). A data failure of
several requests is bisected at once — halves that write are acknowledged — down to the single
request that cannot be stored, which fails with :class:`Unstorable` (400/INVALID_ARGUMENT: the
client must not resend it). An unknown failure is retried like a transient one and then
bisected, its single failing request getting 503. Data is never acknowledged unless written.

>>> written = []
>>> w = BatchWriter(lambda signal, reqs: written.extend(reqs) or len(reqs))
>>> w.start()
>>> w.submit(Signal.TRACES, "req", 1).wait()
>>> w.close()
>>> written
['req']
"""

from __future__ import annotations

import collections
import functools
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from otel_impact.receive.budget import MemoryBudget, QueueFull, Reservation
from otel_impact.receive.protocol import Signal

log = logging.getLogger(__name__)


class Sink(Protocol):
    """Writes a batch of one signal's export requests; returns the number of rows written.

    A sink may also offer ``prepare(signal, requests) -> Write``: conversion that needs no store
    client, returning a callable that writes the prepared batch (and can be called again on
    retry). The batch writer then pipelines (see the module docstring).
    """

    def __call__(self, signal: Signal, requests: Sequence[Any], /) -> int: ...


Write = Callable[[], int]  # a prepared batch: inserts it (again, on retry); returns rows written
Classify = Callable[[BaseException], str]  # "transient" | "data" | "unknown"

__all__ = ["BatchWriter", "Closed", "QueueFull", "Sink", "Ticket", "Unstorable", "WriteFailed"]


class Closed(Exception):
    """The writer is shutting down and accepts nothing more."""


class WriteFailed(Exception):
    """The store rejected the batch holding this request, after all retries."""


class Unstorable(Exception):
    """The store refuses this very request (bisected out of its batch); resending cannot help."""


@dataclass(eq=False, slots=True)
class Ticket:
    """One submitted request; ``wait()`` returns once it is written or raises WriteFailed."""

    signal: Signal
    request: Any
    items: int
    reservation: Reservation | None = None
    days: frozenset[int] = frozenset()
    _done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None

    def wait(self, timeout: float | None = None) -> None:
        if not self._done.wait(timeout):
            raise TimeoutError("request not written yet")
        if isinstance(self.error, Unstorable):
            raise self.error
        if self.error is not None:
            raise WriteFailed(str(self.error)) from self.error

    def _resolve(self, error: BaseException | None = None) -> None:
        self.error = error
        if self.reservation is not None:
            self.reservation.release()
        self._done.set()


Listener = Callable[[Signal, int, bool], None]  # (signal, items, written?) after each resolution


class BatchWriter:
    """Bounded queue + single writer thread (see module docstring)."""

    def __init__(
        self,
        sink: Sink,
        *,
        max_queue_items: int = 200_000,
        max_batch_items: int = 50_000,
        max_queue_bytes: int = 256 * 1024 * 1024,
        flush_interval: float = 0.005,
        pipeline_min_items: int = 10_000,
        max_partitions: int = 100,
        retries: int = 5,
        backoff_initial: float = 0.1,
        backoff_max: float = 2.0,
        listener: Listener | None = None,
    ) -> None:
        if max_queue_items < 1:
            raise ValueError(f"max_queue_items must be >= 1, got {max_queue_items}")
        if max_batch_items < 1:
            raise ValueError(f"max_batch_items must be >= 1, got {max_batch_items}")
        if max_queue_bytes < 1:
            raise ValueError(f"max_queue_bytes must be >= 1, got {max_queue_bytes}")
        if flush_interval < 0:
            raise ValueError(f"flush_interval must be >= 0, got {flush_interval}")
        if retries < 1:
            raise ValueError(f"retries must be >= 1, got {retries}")
        if pipeline_min_items < 1:
            raise ValueError(f"pipeline_min_items must be >= 1, got {pipeline_min_items}")
        if max_partitions < 1:
            raise ValueError(f"max_partitions must be >= 1, got {max_partitions}")
        self._sink = sink
        self._prepare: Callable[[Signal, Sequence[Any]], Write] | None = getattr(sink, "prepare", None)
        self._classify: Classify = getattr(sink, "classify", None) or (lambda exc: "transient")
        self.budget = MemoryBudget(max_queue_bytes)
        self.max_queue_items = max_queue_items
        self.max_batch_items = max_batch_items
        self.max_queue_bytes = max_queue_bytes
        self.max_partitions = max_partitions
        self.flush_interval = flush_interval
        self.pipeline_min_items = pipeline_min_items
        self.retries = retries
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self._listener = listener
        self._cond = threading.Condition()
        self._queue: collections.deque[Ticket] = collections.deque()
        self._queued_items = 0
        self._pending_items = 0  # queued + being written
        self._pending_tickets = 0
        self._closing = False
        self._drain = True
        self._thread: threading.Thread | None = None
        self._inserting = 0  # prepared batches handed to the insert stage and not yet finished

    # --- front-end side ----------------------------------------------------------------------
    @property
    def pending_items(self) -> int:
        return self._pending_items

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="otel-impact-writer", daemon=True)
        self._thread.start()

    def submit(
        self,
        signal: Signal,
        request: Any,
        items: int,
        size: int = 0,
        *,
        reservation: Reservation | None = None,
        days: frozenset[int] = frozenset(),
    ) -> Ticket:
        """Queue ``request``; raise QueueFull or Closed.

        ``items``: its item count; its bytes are either ``reservation`` (taken over from the
        front end, released once the request is resolved) or ``size`` reserved here; ``days``:
        the partitions it touches. A single request larger than the whole queue is admitted
        when nothing else is pending, so an oversized-but-legal request still makes progress.
        On any refusal the reservation is released.
        """
        try:
            if reservation is None:
                reservation = self.budget.reserve(size)
            ticket = Ticket(signal, request, items, reservation, days)
            with self._cond:
                if self._closing:
                    raise Closed("receiver is shutting down")
                if self._pending_tickets > 0 and self._pending_items + items > self.max_queue_items:
                    raise QueueFull(
                        f"queue full ({self._pending_items} of {self.max_queue_items} items pending)"
                    )
                self._queue.append(ticket)
                self._queued_items += items
                self._pending_items += items
                self._pending_tickets += 1
                self._cond.notify_all()
        except BaseException:
            if reservation is not None:
                reservation.release()
            raise
        return ticket

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything submitted so far is resolved; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._pending_tickets:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def close(self, drain: bool = True, timeout: float | None = None) -> None:
        """Stop accepting; with ``drain`` write what is queued, else fail it; join the thread."""
        with self._cond:
            self._closing = True
            self._drain = drain
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        else:
            self._fail_queue(Closed("receiver stopped"))

    # --- writer thread -----------------------------------------------------------------------
    def _take_batch(self) -> list[Ticket] | None:
        with self._cond:
            # while an insert runs, take only a batch big enough to be worth converting early:
            # every insert has a fixed engine cost, so small overlapped batches cost more CPU
            while not self._closing and (
                not self._queue or (self._inserting and self._queued_items < self.pipeline_min_items)
            ):
                self._cond.wait()
            if not self._queue:
                return None
            if not self._drain:
                return None
            if self.flush_interval > 0 and not self._closing:
                deadline = time.monotonic() + self.flush_interval
                while self._queued_items < self.max_batch_items and not self._closing:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
            batch: list[Ticket] = []
            size = 0
            days: set[int] = set()
            while self._queue and (
                not batch
                or (
                    size + self._queue[0].items <= self.max_batch_items
                    and len(days | self._queue[0].days) <= self.max_partitions
                )
            ):
                ticket = self._queue.popleft()
                size += ticket.items
                days |= ticket.days
                batch.append(ticket)
            self._queued_items -= size
            return batch

    def _run(self) -> None:
        if self._prepare is None:
            while (batch := self._take_batch()) is not None:
                for signal, tickets in _by_signal(batch):
                    self._write_group(signal, tickets, self._plain(signal, tickets))
        else:
            self._run_pipelined()
        self._fail_queue(Closed("receiver stopped before this request was written"))

    def _run_pipelined(self) -> None:
        """This thread takes and prepares batches; a second one writes them, in order."""
        handoff: queue.Queue[list[tuple[Signal, list[Ticket], Write]] | None] = queue.Queue(maxsize=1)

        def write_stage() -> None:
            while (jobs := handoff.get()) is not None:
                for signal, tickets, write in jobs:
                    self._write_group(signal, tickets, write)
                with self._cond:
                    self._inserting -= 1
                    self._cond.notify_all()

        stage = threading.Thread(target=write_stage, name="otel-impact-insert", daemon=True)
        stage.start()
        try:
            while (batch := self._take_batch()) is not None:
                jobs = [(s, tickets, self._prepared(s, tickets)) for s, tickets in _by_signal(batch)]
                with self._cond:
                    self._inserting += 1
                handoff.put(jobs)
        finally:
            handoff.put(None)
            stage.join()

    def _prepared(self, signal: Signal, tickets: list[Ticket]) -> Write:
        requests = [t.request for t in tickets]
        assert self._prepare is not None
        try:
            return self._prepare(signal, requests)
        except Exception as exc:  # the plain sink call retries it and reports the failure
            log.debug("preparing %d %s request(s) failed: %s", len(requests), signal, exc)
            return functools.partial(self._sink, signal, requests)

    def _plain(self, signal: Signal, tickets: list[Ticket]) -> Write:
        return functools.partial(self._sink, signal, [t.request for t in tickets])

    def _write_group(self, signal: Signal, tickets: list[Ticket], write: Write, retry: bool = True) -> None:
        """Write ``tickets``; on a data failure bisect so that only unstorable requests fail."""
        error, kind = self._write_with_retry(signal, len(tickets), write, retry)
        if error is None or kind == "transient":
            self._finish(signal, tickets, error)
            return
        if len(tickets) == 1:
            if kind == "data":
                text = (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
                error = Unstorable(f"the store cannot hold this request: {text}")
            self._finish(signal, tickets, error)
            return
        log.warning("bisecting %d %s request(s) to isolate what the store refuses", len(tickets), signal)
        half = len(tickets) // 2
        for part in (tickets[:half], tickets[half:]):
            # a data failure was deterministic: halves get no backoff; unknown ones were retried
            self._write_group(signal, part, self._plain(signal, part), retry=False)

    def _write_with_retry(
        self, signal: Signal, n_requests: int, write: Write, retry: bool = True
    ) -> tuple[BaseException | None, str]:
        delay = self.backoff_initial
        error: BaseException | None = None
        kind = "transient"
        attempts = self.retries if retry else 1
        for attempt in range(1, attempts + 1):
            try:
                write()
                return None, ""
            except Exception as exc:
                error = exc
                try:
                    kind = self._classify(exc)
                except Exception:
                    kind = "unknown"
                log.warning(
                    "writing %d %s request(s) failed (attempt %d of %d): %s",
                    n_requests,
                    signal,
                    attempt,
                    attempts,
                    exc,
                )
            if kind == "data":
                break
            if attempt < attempts:
                with self._cond:
                    if self._closing and not self._drain:
                        break
                time.sleep(delay)
                delay = min(delay * 2, self.backoff_max)
        return error, kind

    def _finish(self, signal: Signal, tickets: list[Ticket], error: BaseException | None) -> None:
        items = sum(t.items for t in tickets)
        for ticket in tickets:
            ticket._resolve(error)
        with self._cond:
            self._pending_items -= items
            self._pending_tickets -= len(tickets)
            self._cond.notify_all()
        if self._listener is not None:
            try:
                self._listener(signal, items, error is None)
            except Exception:  # telemetry must never break the writer
                log.debug("receiver listener failed", exc_info=True)

    def _fail_queue(self, error: BaseException) -> None:
        with self._cond:
            left = list(self._queue)
            self._queue.clear()
            self._queued_items = 0
        for signal, tickets in _by_signal(left):
            self._finish(signal, tickets, error)


def _by_signal(batch: list[Ticket]) -> list[tuple[Signal, list[Ticket]]]:
    """The batch's tickets grouped per signal (one write per signal), first-seen order."""
    groups: dict[Signal, list[Ticket]] = {}
    for ticket in batch:
        groups.setdefault(ticket.signal, []).append(ticket)
    return list(groups.items())
