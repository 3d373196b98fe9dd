"""The demo end to end, phase by phase: replay from 2 worker processes vs from the receiver's process.

Runs :func:`otel_impact.demo.run.run_demo` twice on the same simulated world (same seed) into two
fresh databases of one temporary embedded chDB directory: first with the simulated services in
the demo's own process (``workers=0``, the peer), then with two spawned worker processes
(``workers=2``, the default). Prints per-phase seconds, telemetry items per second through OTLP
into chDB, the recovered-effect count, and this process's peak RSS. The machine is shared, so
also note the load average printed with the figures.

    .venv/bin/python benchmarks/demo.py                   # 20,000 users x 30 days
    .venv/bin/python benchmarks/demo.py --users 2000
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    from otel_impact.demo.run import DemoOptions, run_demo

    with tempfile.TemporaryDirectory(prefix="bench-demo-", ignore_cleanup_errors=True) as tmp:
        dsn = f"chdb://{tmp}/db"
        print(f"load average {os.getloadavg()[0]:.1f} (2 cores)")
        print(f"{'workers':>7} {'emit s':>7} {'items/s':>9} {'analyze s':>9} {'total s':>8} {'recovered':>9}")
        for workers in (0, 2):
            t0 = time.perf_counter()
            outcome = run_demo(
                DemoOptions(
                    users=args.users,
                    days=args.days,
                    seed=args.seed,
                    dsn=dsn,
                    database=f"otel_impact_demo_w{workers}",
                    out=Path(tmp) / f"out{workers}",
                    workers=workers,
                )
            )
            total = time.perf_counter() - t0
            c, t = outcome.counts, outcome.timings
            items = c.predictions + c.events
            print(
                f"{workers:>7} {t['emit']:>7.1f} {items / t['emit']:>9,.0f} {t['analyze']:>9.1f} "
                f"{total:>8.1f} {outcome.recovered:>5}/{len(outcome.rows)}"
            )
        print(f"items per run: {items:,} ({c.predictions:,} predictions, {c.events:,} events)")
        print(
            f"load average {os.getloadavg()[0]:.1f}; peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
        )


if __name__ == "__main__":
    main()
