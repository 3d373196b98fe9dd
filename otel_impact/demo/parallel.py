"""Replay the simulated world from several worker processes, as separate service replicas would.

The SDK work (building spans and log records, encoding OTLP) is the costly part of the demo, and
Python runs it on one core per process. :func:`emit_parallel` therefore starts ``workers``
processes (``spawn``, so they never inherit the parent's chDB engine or threads); each
re-simulates the same world from the same seed — cheap and deterministic — and emits its shard
of the users through its own providers to the receiver in the parent. Only the counts and
progress lines travel back.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import time
import traceback
from collections.abc import Callable
from typing import Any

from otel_impact.demo.emit import EmitCounts, emit_world, merge_counts
from otel_impact.demo.world import WorldParams
from otel_impact.errors import ReceiverError

_TIMEOUT_S = 3600.0  # a hung worker must not hang the demo forever


def _worker(params: WorldParams, endpoint: str, shard: int, shards: int, out: Any) -> None:
    """Entry point of one worker process: emit shard ``shard`` of ``shards``, report counts."""
    try:
        from otel_impact.demo.services import make_services
        from otel_impact.demo.world import simulate

        world = simulate(params)
        services = make_services(endpoint, params.truth.sampled_ratio, replica=f"w{shard}", seed=params.seed)
        try:

            def progress(line: str) -> None:
                out.put(("progress", shard, line))

            counts = emit_world(world, services, shard=(shard, shards), progress=progress)
        finally:
            services.shutdown()
        out.put(("done", shard, counts))
    except BaseException as exc:  # report everything, the parent turns it into a ReceiverError
        out.put(("error", shard, f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))


def emit_parallel(
    params: WorldParams,
    endpoint: str,
    *,
    workers: int,
    progress: Callable[[str], None] | None = None,
) -> EmitCounts:
    """Emit the world of ``params`` to ``endpoint`` from ``workers`` processes; merged counts."""
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(params, endpoint, k, workers, out), daemon=True)
        for k in range(workers)
    ]
    for proc in procs:
        proc.start()
    parts: dict[int, EmitCounts] = {}
    deadline = time.monotonic() + _TIMEOUT_S
    try:
        while len(parts) < workers:
            try:
                kind, shard, payload = out.get(timeout=1.0)
            except queue.Empty:
                dead = [p for k, p in enumerate(procs) if k not in parts and not p.is_alive()]
                if dead:
                    raise ReceiverError(
                        f"a demo worker process exited with code {dead[0].exitcode}"
                    ) from None
                if time.monotonic() > deadline:
                    raise ReceiverError(
                        f"the demo workers did not finish within {_TIMEOUT_S:.0f} s"
                    ) from None
                continue
            if kind == "error":
                raise ReceiverError(f"demo worker {shard} failed: {payload}")
            if kind == "done":
                parts[shard] = payload
            elif kind == "progress" and shard == 0 and progress is not None:
                progress(str(payload))
    finally:
        for proc in procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()
    return merge_counts([parts[k] for k in range(workers)])
