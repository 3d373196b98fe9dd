"""Benchmark of the job lock under racing claims: how many holders per round, how long a claim takes.

``--threads`` threads (each with its own client on one chDB engine, or on a ClickHouse server
with ``--dsn http://…``) race ``--rounds`` times: all call :meth:`JobLock.acquire` at a barrier,
every holder records itself, a second barrier is passed while the holder still holds, then the
holder releases. Reported: acquisitions attempted, rounds with 0 / 1 / ≥2 holders (≥2 is a broken
lock) and the median / p95 time of one ``acquire`` call. ``--processes`` runs the same race across
processes (only with a ClickHouse server: chDB is one process per path).

Run: ``.venv/bin/python benchmarks/lock_race.py --threads 4 --rounds 500``.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import statistics
import threading
import time
import uuid
from collections import Counter
from typing import Any

import clickhouse_connect

from otel_impact.errors import LockedError
from otel_impact.joblock import JobLock
from otel_impact.store import apply_schema


def _race(clients: list[Any], rounds: int) -> tuple[Counter[int], list[float]]:
    n = len(clients)
    start, done = threading.Barrier(n), threading.Barrier(n)
    holders: list[list[str]] = [[] for _ in range(rounds)]
    timings: list[float] = []
    guard = threading.Lock()

    def worker(i: int) -> None:
        for r in range(rounds):
            lock = JobLock(clients[i], "race", ttl=600)
            start.wait()
            t0 = time.perf_counter()
            with contextlib.suppress(LockedError):
                lock.acquire()
            took = time.perf_counter() - t0
            with guard:
                timings.append(took)
                if lock.held:
                    holders[r].append(lock.token)
            done.wait()
            lock.release()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Counter(len(h) for h in holders), timings


def _process(dsn: str, database: str, rounds: int, out: Any) -> None:
    client = clickhouse_connect.get_client(dsn=dsn, database=database)
    bad = 0
    for _ in range(rounds):
        lock = JobLock(client, "race-p", ttl=600, attempts=1)
        with contextlib.suppress(LockedError):
            lock.acquire()
        if lock.held:
            confirmed = [c.token for c in lock.claims() if c.confirmed]
            bad += confirmed != [lock.token]
            lock.release()
    out.put(bad)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dsn", default="chdb://memory")
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=500)
    ap.add_argument("--processes", type=int, default=0)
    args = ap.parse_args()
    database = "bench_lock_" + uuid.uuid4().hex[:8]
    admin = clickhouse_connect.get_client(dsn=args.dsn)
    admin.command(f"CREATE DATABASE {database}")
    apply_schema(clickhouse_connect.get_client(dsn=args.dsn, database=database), database=database)
    clients = [clickhouse_connect.get_client(dsn=args.dsn, database=database) for _ in range(args.threads)]
    t0 = time.perf_counter()
    per_round, timings = _race(clients, args.rounds)
    wall = time.perf_counter() - t0
    timings.sort()
    print(
        f"threads={args.threads} rounds={args.rounds} acquisitions={args.threads * args.rounds} "
        f"wall={wall:.1f}s holders/round: 0={per_round[0]} 1={per_round[1]} "
        f">=2={sum(v for k, v in per_round.items() if k >= 2)} "
        f"acquire median={statistics.median(timings) * 1e3:.1f}ms p95={timings[int(0.95 * len(timings))] * 1e3:.1f}ms"
    )
    if args.processes:
        if not args.dsn.startswith("http"):
            raise SystemExit("--processes needs a ClickHouse server (--dsn http://…)")
        ctx = multiprocessing.get_context("spawn")
        out = ctx.Queue()
        procs = [
            ctx.Process(target=_process, args=(args.dsn, database, args.rounds, out))
            for _ in range(args.processes)
        ]
        for p in procs:
            p.start()
        bad = sum(out.get() for _ in procs)
        for p in procs:
            p.join()
        print(f"processes={args.processes} rounds={args.rounds} holders that were not alone: {bad}")
    admin.command(f"DROP DATABASE {database} SYNC")


if __name__ == "__main__":
    main()
