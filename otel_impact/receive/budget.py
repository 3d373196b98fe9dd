"""One byte budget for everything a request holds, from its first body byte until it is written.

The receiver's memory is bounded by ``max_queue_bytes`` (``collect --queue-mib``) at admission,
not after parsing: a front end reserves a body's bytes *before* reading it, grows the
reservation while it inflates (gzip/deflate) and parses, and hands the reservation to the batch
writer, which releases it once the request is written (or refused). A reservation that would
exceed the budget raises :class:`QueueFull` (HTTP 429 / gRPC UNAVAILABLE, the client retries).

One request may exceed the whole budget on its own when nothing else holds any bytes, so a
large-but-legal request still makes progress; the per-request body limit bounds that case.

>>> budget = MemoryBudget(100)
>>> a = budget.reserve(60)
>>> budget.reserve(60)
Traceback (most recent call last):
...
otel_impact.receive.budget.QueueFull: queue full (60 of 100 bytes held)
>>> a.release(); budget.used
0
"""

from __future__ import annotations

import threading


class QueueFull(Exception):
    """The queue (items or bytes) is at its bound; the client should retry later."""


class MemoryBudget:
    """A thread-safe byte counter with a limit; see the module docstring."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        self.limit = limit
        self.used = 0
        self._lock = threading.Lock()

    def reserve(self, n: int = 0) -> Reservation:
        """A new reservation of ``n`` bytes; QueueFull when the budget cannot hold it."""
        reservation = Reservation(self)
        reservation.grow(n)
        return reservation

    def _take(self, reservation: Reservation, n: int) -> None:
        with self._lock:
            alone = self.used == reservation.size  # nothing else holds bytes
            if n > 0 and self.used + n > self.limit and not alone:
                raise QueueFull(f"queue full ({self.used} of {self.limit} bytes held)")
            self.used += n
            reservation.size += n


class Reservation:
    """Bytes held by one request; grow while reading, ``resize`` after parsing, release once."""

    __slots__ = ("_budget", "size")

    def __init__(self, budget: MemoryBudget) -> None:
        self._budget = budget
        self.size = 0

    def grow(self, n: int) -> None:
        """Hold ``n`` more bytes; QueueFull (holding nothing more) when over the budget."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        self._budget._take(self, n)

    def resize(self, n: int) -> None:
        """Hold exactly ``n`` bytes (shrinking always succeeds; growing may raise QueueFull)."""
        self._budget._take(self, n - self.size)

    def release(self) -> None:
        """Give every byte back (idempotent)."""
        self._budget._take(self, -self.size)
