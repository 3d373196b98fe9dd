"""The batching writer: concatenation into few writes, bounds, retries, drain and failure."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest

from otel_impact.receive.batcher import BatchWriter, Closed, QueueFull, WriteFailed
from otel_impact.receive.protocol import Signal


class RecordingSink:
    def __init__(self, fail_times: int = 0, gate: threading.Event | None = None) -> None:
        self.calls: list[tuple[Signal, list[Any]]] = []
        self.fail_times = fail_times
        self.gate = gate
        self.attempts = 0

    def __call__(self, signal: Signal, requests: Sequence[Any]) -> int:
        if self.gate is not None:
            self.gate.wait(5)
        self.attempts += 1
        if self.attempts <= self.fail_times:
            raise RuntimeError("store down")
        self.calls.append((signal, list(requests)))
        return len(requests)


def test_requests_queued_while_writing_are_concatenated_into_one_write() -> None:
    gate = threading.Event()
    sink = RecordingSink(gate=gate)
    w = BatchWriter(sink, flush_interval=0)
    w.start()
    first = w.submit(Signal.TRACES, "r0", 1)
    tickets = [w.submit(Signal.TRACES, f"r{i}", 1) for i in range(1, 6)]
    tickets.append(w.submit(Signal.LOGS, "l0", 2))
    gate.set()
    for t in [first, *tickets]:
        t.wait(5)
    w.close()
    written = [r for _, reqs in sink.calls for r in reqs]
    assert sorted(written) == ["l0", "r0", "r1", "r2", "r3", "r4", "r5"]
    # one call per signal per batch: at most r0 alone, then r1..r5 together, then logs
    assert len(sink.calls) <= 3
    assert max(len(reqs) for s, reqs in sink.calls if s is Signal.TRACES) >= 5


def test_max_batch_items_splits_batches() -> None:
    gate = threading.Event()
    sink = RecordingSink(gate=gate)
    w = BatchWriter(sink, max_batch_items=4, flush_interval=0)
    w.start()
    tickets = [w.submit(Signal.TRACES, i, 2) for i in range(6)]
    gate.set()
    for t in tickets:
        t.wait(5)
    w.close()
    assert all(sum(2 for _ in reqs) <= 4 for _, reqs in sink.calls)
    assert sorted(r for _, reqs in sink.calls for r in reqs) == list(range(6))


def test_queue_full_and_oversized_single_request() -> None:
    gate = threading.Event()
    w = BatchWriter(RecordingSink(gate=gate), max_queue_items=10, flush_interval=0)
    w.start()
    big = w.submit(Signal.TRACES, "big", 50)  # larger than the queue, admitted when idle
    with pytest.raises(QueueFull):
        w.submit(Signal.TRACES, "more", 1)
    assert w.pending_items == 50
    gate.set()
    big.wait(5)
    assert w.flush(5)
    assert w.pending_items == 0
    w.submit(Signal.TRACES, "after", 10).wait(5)
    w.close()


def test_queue_is_bounded_in_bytes_too() -> None:
    gate = threading.Event()
    w = BatchWriter(RecordingSink(gate=gate), max_queue_bytes=1000, flush_interval=0)
    w.start()
    first = w.submit(Signal.LOGS, "a", 1, size=600)
    with pytest.raises(QueueFull, match="bytes"):
        w.submit(Signal.LOGS, "b", 1, size=600)
    w.submit(Signal.LOGS, "c", 1, size=300)
    gate.set()
    first.wait(5)
    assert w.flush(5)
    w.submit(Signal.LOGS, "d", 1, size=900).wait(5)
    w.close()


def test_failed_write_is_retried_then_succeeds() -> None:
    sink = RecordingSink(fail_times=2)
    seen: list[tuple[Signal, int, bool]] = []
    w = BatchWriter(sink, retries=3, backoff_initial=0.001, listener=lambda s, n, ok: seen.append((s, n, ok)))
    w.start()
    w.submit(Signal.METRICS, "m", 7).wait(5)
    w.close()
    assert sink.attempts == 3
    assert seen == [(Signal.METRICS, 7, True)]


def test_write_failing_after_retries_is_never_acknowledged() -> None:
    sink = RecordingSink(fail_times=100)
    seen: list[bool] = []
    w = BatchWriter(sink, retries=2, backoff_initial=0.001, listener=lambda s, n, ok: seen.append(ok))
    w.start()
    ticket = w.submit(Signal.LOGS, "x", 1)
    with pytest.raises(WriteFailed, match="store down"):
        ticket.wait(5)
    assert sink.calls == []
    assert seen == [False]
    assert w.flush(1)
    w.close()


def _close_with_drain_behind_gate(sink: RecordingSink, gate: threading.Event) -> BatchWriter:
    """Queue 20 one-item requests behind a gated sink, close with drain, open the gate; every
    ticket must be settled once ``close`` returns."""
    w = BatchWriter(sink, flush_interval=0)
    w.start()
    tickets = [w.submit(Signal.TRACES, i, 1) for i in range(20)]
    closer = threading.Thread(target=w.close, kwargs={"drain": True})
    closer.start()
    gate.set()
    closer.join(5)
    for t in tickets:
        t.wait(0)
    return w


def test_close_with_drain_writes_everything_queued() -> None:
    gate = threading.Event()
    sink = RecordingSink(gate=gate)
    w = _close_with_drain_behind_gate(sink, gate)
    assert sorted(r for _, reqs in sink.calls for r in reqs) == list(range(20))
    with pytest.raises(Closed):
        w.submit(Signal.TRACES, "late", 1)


def test_close_without_drain_fails_what_is_queued() -> None:
    gate = threading.Event()
    w = BatchWriter(RecordingSink(gate=gate), flush_interval=0)
    w.start()
    first = w.submit(Signal.TRACES, 0, 1)
    time.sleep(0.05)  # let the writer take `first`
    queued = w.submit(Signal.TRACES, 1, 1)
    closer = threading.Thread(target=w.close, kwargs={"drain": False})
    closer.start()
    gate.set()
    closer.join(5)
    first.wait(0)
    with pytest.raises(WriteFailed):
        queued.wait(0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_queue_items": 0},
        {"max_batch_items": 0},
        {"max_queue_bytes": 0},
        {"flush_interval": -1},
        {"retries": 0},
        {"pipeline_min_items": 0},
    ],
)
def test_argument_validation_names_the_argument(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        BatchWriter(RecordingSink(), **kwargs)


class PreparingSink(RecordingSink):
    """A sink with ``prepare``: conversion on the batcher's take thread, writes on its insert thread."""

    def __init__(self, fail_prepare: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fail_prepare = fail_prepare
        self.prepared: list[list[Any]] = []
        self.threads: dict[str, set[int]] = {"prepare": set(), "write": set()}

    def prepare(self, signal: Signal, requests: Sequence[Any]) -> Any:
        self.threads["prepare"].add(threading.get_ident())
        if self.fail_prepare:
            raise ValueError("cannot convert")
        self.prepared.append(list(requests))

        def write() -> int:
            self.threads["write"].add(threading.get_ident())
            return self(signal, requests)

        return write


def test_next_batch_is_prepared_while_the_previous_one_is_written() -> None:
    gate = threading.Event()
    sink = PreparingSink(gate=gate)
    w = BatchWriter(sink, flush_interval=0, pipeline_min_items=1)
    w.start()
    first = w.submit(Signal.TRACES, "r0", 1)
    deadline = time.monotonic() + 5
    while not sink.prepared and time.monotonic() < deadline:
        time.sleep(0.005)
    second = w.submit(Signal.TRACES, "r1", 1)
    while len(sink.prepared) < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    # r1 is converted although r0's write is still blocked, and neither is acknowledged yet
    assert sink.prepared == [["r0"], ["r1"]]
    assert sink.calls == []
    with pytest.raises(TimeoutError):
        first.wait(0)
    gate.set()
    first.wait(5)
    second.wait(5)
    w.close()
    assert sink.calls == [(Signal.TRACES, ["r0"]), (Signal.TRACES, ["r1"])]  # written in order
    assert sink.threads["prepare"].isdisjoint(sink.threads["write"])


def test_failed_prepare_falls_back_to_the_retried_sink_call() -> None:
    sink = PreparingSink(fail_prepare=True, fail_times=100)
    w = BatchWriter(sink, retries=2, backoff_initial=0.001)
    w.start()
    with pytest.raises(WriteFailed):
        w.submit(Signal.TRACES, "r0", 1).wait(5)
    w.close()
    assert sink.attempts == 2 and sink.calls == []


def test_pipelined_failing_write_is_retried_then_fails_the_tickets() -> None:
    sink = PreparingSink(fail_times=2)
    w = BatchWriter(sink, retries=3, backoff_initial=0.001)
    w.start()
    w.submit(Signal.TRACES, "r0", 1).wait(5)  # third attempt succeeds
    w.close()
    assert sink.attempts == 3 and sink.calls == [(Signal.TRACES, ["r0"])]
    assert sink.prepared == [["r0"]]  # prepared once, written three times


def test_pipelined_close_with_drain_writes_everything() -> None:
    gate = threading.Event()
    sink = PreparingSink(gate=gate)
    _close_with_drain_behind_gate(sink, gate)
    assert [r for _, reqs in sink.calls for r in reqs] == list(range(20))


def test_small_batches_wait_for_the_running_insert_and_are_taken_together() -> None:
    gate = threading.Event()
    sink = PreparingSink(gate=gate)
    w = BatchWriter(sink, flush_interval=0, pipeline_min_items=10)
    w.start()
    first = w.submit(Signal.TRACES, "r0", 1)
    deadline = time.monotonic() + 5
    while not sink.prepared and time.monotonic() < deadline:
        time.sleep(0.005)
    rest = [w.submit(Signal.TRACES, f"r{i}", 3) for i in range(1, 4)]  # 9 items < 10
    time.sleep(0.1)
    assert sink.prepared == [["r0"]]  # not taken while r0's insert runs
    gate.set()
    for t in [first, *rest]:
        t.wait(5)
    w.close()
    assert sink.prepared == [["r0"], ["r1", "r2", "r3"]]
