"""Benchmark: the lift's delta-method interval against the percentile bootstrap it replaces above
``lift.bootstrap_max_n`` users per arm — agreement and time.

Two per-user outcome distributions, n users per arm, treatment 3 % above control:

* ``purchase`` — a Poisson(0.6) number of Gamma(2, 20) purchases per user (55 % of users buy
  nothing), the shape of the job-scale world's purchase values;
* ``zi-lognormal`` — 10 % of users buy, LogNormal(3, 1.5) (a heavy right tail).

For each: the 2,000-resample percentile bootstrap (seed 1) and the time it takes, a second
bootstrap with seed 2 (how much the bootstrap itself moves), and the delta-method log-ratio
interval; differences are the larger endpoint difference in % of the seed-1 bootstrap's width.

    .venv/bin/python benchmarks/lift_interval.py
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from otel_impact.analyze.lift import Lift, lift


def purchases(rng: np.random.Generator, n: int, effect: float) -> np.ndarray:
    counts = rng.poisson(0.6, n)
    values = np.zeros(n)
    np.add.at(values, np.repeat(np.arange(n), counts), rng.gamma(2.0, 20.0, int(counts.sum())))
    return effect * values


def zi_lognormal(rng: np.random.Generator, n: int, effect: float) -> np.ndarray:
    return effect * (rng.random(n) < 0.1) * rng.lognormal(3.0, 1.5, n)


def diff(other: Lift, ref: Lift) -> str:
    """The larger endpoint difference in % of ``ref``'s interval width."""
    worst = max(abs(other.ci.low - ref.ci.low), abs(other.ci.high - ref.ci.high))
    return f"{worst / (ref.ci.high - ref.ci.low):.1%}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--n", type=int, action="append", help="users per arm (repeatable); default 20k, 50k, 250k"
    )
    ap.add_argument("--boot", type=int, default=2000)
    args = ap.parse_args()
    sizes = args.n or [20_000, 50_000, 250_000]
    print(
        "| outcome | users per arm | bootstrap CI (time) | 2nd bootstrap: diff | delta-log CI (time) | diff |"
    )
    print("|---|---:|---|---:|---|---:|")
    for name, gen in (("purchase", purchases), ("zi-lognormal", zi_lognormal)):
        for n in sizes:
            rng = np.random.default_rng(n)
            t, c = gen(rng, n, 1.03), gen(rng, n, 1.0)
            t0 = time.perf_counter()
            b1 = lift(t, c, rng=np.random.default_rng(1), n_boot=args.boot, bootstrap_max_n=None)
            t_boot = time.perf_counter() - t0
            b2 = lift(t, c, rng=np.random.default_rng(2), n_boot=args.boot, bootstrap_max_n=None)
            t0 = time.perf_counter()
            d = lift(t, c, rng=np.random.default_rng(1), n_boot=args.boot, bootstrap_max_n=1_000)
            t_delta = time.perf_counter() - t0
            print(
                f"| {name} | {n:,} | [{b1.ci.low:+.4f}, {b1.ci.high:+.4f}] ({t_boot:.2f} s) | {diff(b2, b1)} "
                f"| [{d.ci.low:+.4f}, {d.ci.high:+.4f}] ({t_delta * 1000:.1f} ms) | {diff(d, b1)} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
