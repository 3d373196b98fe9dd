"""Benchmark of the telemetry-contract checks: tracking-plan store checks and SLO burn rates.

Generates ``--n`` ``business.purchase`` events over one day inside chDB (``INSERT … SELECT FROM
numbers()``, with planted wrong types, enum violations and missing attributes), then times on
the same data:

* the project's SQL checks (``otel_impact.plan.check.check_store``: names, one aggregation pass
  per planned entry, volume buckets);
* the peer: fetching every event's attributes into Python and applying the same pure rules row
  by row (``otel_impact.plan.validate.check_payload``) — fetch and validation timed separately;
  the violation counts of both are compared;
* ``otel_impact.analyze.slo.evaluate_slo`` over ``--days`` days of one-minute steps with the
  four SRE-workbook window pairs vs a pandas ``rolling().sum()`` peer for the same burn rates.

Run: ``.venv/bin/python benchmarks/contract.py --n 500000`` (embedded chDB in memory).
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np

START = datetime(2026, 11, 1, tzinfo=UTC)
START_NS = int(START.timestamp()) * 10**9
DAY_NS = 86_400 * 10**9

PLAN = {
    "events": {
        "business.purchase": {
            "attributes": {
                "business.value": {"type": "double", "required": True},
                "business.currency": {"type": "enum", "values": ["EUR", "USD"], "required": True},
                "user.id": {"type": "string", "required": True, "max_cardinality": 1000},
                "cart.items": "int",
                "cart.gift": "bool",
            }
        }
    }
}


def _load(client: object, n: int) -> None:
    step = DAY_NS // n
    client.command(  # type: ignore[attr-defined]
        f"""
        INSERT INTO otel_logs (Timestamp, EventName, ServiceName, TraceId, SpanId, LogAttributes)
        SELECT
            fromUnixTimestamp64Nano(toInt64({START_NS} + number * {step})),
            'business.purchase', 'checkout',
            lower(hex(cityHash64(number, 1))) || lower(hex(cityHash64(number, 2))),
            lower(hex(cityHash64(number, 3))),
            mapFilter((k, v) -> v != '', map(
                'business.value', if(number % 997 = 0, '', toString(10 + number % 90)),
                'business.currency', if(number % 1009 = 0, 'GBP', if(number % 2 = 0, 'EUR', 'USD')),
                'user.id', 'u' || toString(cityHash64(number, 4) % 5000),
                'cart.items', if(number % 1013 = 0, 'two', toString(number % 5)),
                'cart.gift', if(number % 3 = 0, 'true', 'false')))
        FROM numbers({n})
        """
    )


def _python_peer(client: object, plan: object) -> tuple[float, float, dict[str, int]]:
    from otel_impact.plan.validate import check_payload

    t0 = time.perf_counter()
    rows = client.query(  # type: ignore[attr-defined]
        "SELECT attributes FROM impact_events WHERE event_name = 'business.purchase'"
    ).result_rows
    t1 = time.perf_counter()
    entry = plan.events["business.purchase"]  # type: ignore[attr-defined]
    counts: dict[str, int] = {}
    users: set[str] = set()
    for (attrs,) in rows:
        for v in check_payload(entry, attrs):
            counts[v.kind] = counts.get(v.kind, 0) + 1
        users.add(attrs.get("user.id", ""))
    if len(users) > 1000:
        counts["cardinality"] = 1
    return t1 - t0, time.perf_counter() - t1, counts


def bench_plan(n: int) -> None:
    import clickhouse_connect

    from otel_impact.plan.check import check_store
    from otel_impact.plan.validate import plan_from_dict
    from otel_impact.store import apply_schema

    name = "bench_contract_" + uuid.uuid4().hex[:8]
    admin = clickhouse_connect.get_client(dsn="chdb://memory")
    admin.command(f"CREATE DATABASE {name}")
    client = clickhouse_connect.get_client(dsn="chdb://memory", database=name)
    apply_schema(client, database=name)
    t0 = time.perf_counter()
    _load(client, n)
    print(f"load {n:,} events: {time.perf_counter() - t0:.2f} s")
    plan = plan_from_dict(PLAN)
    end = START + timedelta(days=1)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        report = check_store(client, plan, START, end)
        times.append(time.perf_counter() - t0)
    sql_counts = {k: v for k, v in report.totals().items() if v}
    best = min(times)
    print(f"SQL check_store: best of 3 {best:.3f} s ({n / best:,.0f} events/s); counts {sql_counts}")
    fetch, validate, py_counts = _python_peer(client, plan)
    total = fetch + validate
    print(
        f"peer (fetch + Python rules): fetch {fetch:.3f} s + validate {validate:.3f} s = {total:.3f} s "
        f"({n / total:,.0f} events/s); counts {py_counts}"
    )
    row_kinds = ("missing_required", "wrong_type", "enum_violation", "cardinality")
    agree = all(sql_counts.get(k, 0) == py_counts.get(k, 0) for k in row_kinds)
    print(f"counts agree: {agree}; SQL is {total / best:.1f}x faster than the peer")
    admin.command(f"DROP DATABASE {name} SYNC")


def bench_slo(days: int) -> None:
    import pandas as pd

    from otel_impact.analyze.slo import burn_rate, evaluate_slo
    from otel_impact.config.contract import DEFAULT_BURN_WINDOWS

    windows = [(w.long, w.short, w.factor, w.severity) for w in DEFAULT_BURN_WINDOWS]
    rng = np.random.default_rng(0)
    steps = (days + 3) * 1440
    total = np.full(steps, 1000.0)
    good = total - rng.binomial(1000, 0.0008, size=steps)
    t0 = time.perf_counter()
    res = evaluate_slo(good, total, step=60, objective=0.999, windows=windows, eval_start=3 * 1440)
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    bad = pd.Series(total - good)
    tot = pd.Series(total)
    peer = {}
    for long_s, short_s, _, _ in windows:
        for w in (long_s, short_s):
            k = int(w // 60)
            peer[w] = (
                bad.rolling(k, min_periods=1).sum() / tot.rolling(k, min_periods=1).sum() / 0.001
            ).to_numpy()
    theirs = time.perf_counter() - t0
    ref = burn_rate(good, total, step=60, window=3600, objective=0.999)
    same = np.allclose(ref, peer[3600.0])
    print(
        f"SLO over {days} d of 1-min steps ({steps:,} steps, 4 window pairs): evaluate_slo {ours * 1e3:.1f} ms "
        f"(burn rates + budget + alert episodes) vs pandas rolling burn rates only {theirs * 1e3:.1f} ms; "
        f"1 h burn rates equal: {same}; alerts {len(res.alerts)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500_000, help="events to generate")
    parser.add_argument("--days", type=int, default=30, help="SLO days of one-minute steps")
    args = parser.parse_args()
    bench_plan(args.n)
    bench_slo(args.days)


if __name__ == "__main__":
    main()
