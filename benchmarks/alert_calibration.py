"""Alert calibration on null data: how many alerts fire when nothing happened?

For every null family of :mod:`null_worlds` (iid and AR(1) φ ∈ {0.5, 0.7} metrics, daily and
hourly buckets, 30–90 days, weekly seasonality, routine pipelines with daily ``data.version``
changes, sampled spans) and every seed, a fresh chDB database gets one world through the
exporter-layout tables, then the production job (:func:`otel_impact.job.run_job`, the code path
of ``otel-impact analyze``; export off) analyses the whole window with the configuration a new
user would write. Every ``firing`` alert is a false alarm. The table gives alerts per 30 days of
analysed data, per family and rule, by severity. Goal: ≤ 1 alert of any severity per 30 days on
average, 0 critical.

    .venv/bin/python benchmarks/alert_calibration.py              # 20 seeds per family
    .venv/bin/python benchmarks/alert_calibration.py --quick      # 3 seeds per family (smoke)
    .venv/bin/python benchmarks/alert_calibration.py --only iid-daily-30d --seeds 5
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from null_worlds import FAMILIES, Family, config, load, window


def run_world(root: Any, dsn: str, f: Family, seed: int) -> list[dict[str, Any]]:
    """Load one world into a fresh database, run the job over its window, return the alerts."""
    import clickhouse_connect

    from otel_impact.config import config_from_dict
    from otel_impact.job import run_job
    from otel_impact.store import apply_schema

    name = "cal_" + uuid.uuid4().hex[:10]
    root.command(f"CREATE DATABASE {name}")
    try:
        client = clickhouse_connect.get_client(dsn=dsn, database=name)
        apply_schema(client, database=name)
        load(client, f, seed)
        start, end = window(f)
        out = run_job(client, config_from_dict(config(f)), since=start, until=end, export=False, seed=seed)
        return [a.to_json() for a in out.result.firing_alerts()]
    finally:
        root.command(f"DROP DATABASE IF EXISTS {name} SYNC")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="3 seeds per family")
    ap.add_argument("--only", action="append", default=[], help="family name (repeatable)")
    args = ap.parse_args()
    seeds = 3 if args.quick else args.seeds
    import clickhouse_connect

    dsn = os.environ.get("OTEL_IMPACT_BENCH_DSN", "chdb://memory")
    root = clickhouse_connect.get_client(dsn=dsn)
    fams = [f for f in FAMILIES if not args.only or f.name in args.only]
    print(f"load before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    t0 = time.perf_counter()
    totals: collections.Counter[tuple[str, str]] = collections.Counter()
    all_days = 0.0
    rows = []
    for f in fams:
        per_rule: collections.Counter[tuple[str, str]] = collections.Counter()
        tf = time.perf_counter()
        for seed in range(seeds):
            for a in run_world(root, dsn, f, seed):
                per_rule[(str(a["rule"]), str(a["severity"]))] += 1
        months = seeds * f.days / 30.0
        all_days += seeds * f.days
        totals.update(per_rule)
        total = sum(per_rule.values()) / months
        crit = sum(v for (_, s), v in per_rule.items() if s == "critical") / months
        detail = ", ".join(f"{r} {s} {v / months:.2f}" for (r, s), v in sorted(per_rule.items())) or "none"
        rows.append(f"| {f.name} | {seeds} | {total:.2f} | {crit:.2f} | {detail} |")
        print(rows[-1] + f"  ({time.perf_counter() - tf:.0f} s)", flush=True)
    months = all_days / 30.0
    print()
    print("| family | seeds | alerts / 30 d | critical / 30 d | by rule and severity (per 30 d) |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    overall = sum(totals.values()) / months
    crit = sum(v for (_, s), v in totals.items() if s == "critical") / months
    detail = ", ".join(f"{r} {s} {v / months:.2f}" for (r, s), v in sorted(totals.items())) or "none"
    print(f"| **all** | {seeds} × {len(fams)} | **{overall:.2f}** | **{crit:.2f}** | {detail} |")
    print(f"\n{time.perf_counter() - t0:.0f} s; load after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    goal = overall <= 1.0 and crit == 0
    print("goal (≤ 1 alert / 30 d, 0 critical):", "met" if goal else "MISSED")


if __name__ == "__main__":
    main()
