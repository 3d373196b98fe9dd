"""Benchmark: the whole analyzer job at scale, on the Collector's tables, with its per-stage times.

One world per size N (same run): 30 days of N prediction spans of one model in 3 versions
(v3 rolled out on day 20) with 2 segment keys (platform × market), a score and a latency each;
``ml.outcome`` label events for half of the predictions; N/10 purchases of ~N/20 users; one routine
``pipeline.run`` a day. Everything is inserted into ``otel_traces`` / ``otel_logs`` in the
exporter's layout, in Collector-sized batches (the store's materialized views fill the typed
tables), then ``run_job`` — every stage of ``otel-impact analyze``, reports off, export off — over
the 30 days. The job's own ``run.stage_seconds`` gives the per-stage table.

    .venv/bin/python benchmarks/job_scale.py                        # N = 1M and 10M
    .venv/bin/python benchmarks/job_scale.py --n 1000000            # one size

The peer is the same job on the smaller world in the same run (how the time grows with N), and
the time to load the rows (what any engine would pay first). Peak RSS is the process's (chDB is
in-process).
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from stitch import attr_map, const, ids, insert_batches

DAYS = 30
START = datetime(2026, 10, 1, tzinfo=UTC)
DAY_NS = 86_400 * 10**9
VERSIONS = np.array(["v1", "v2", "v3"], dtype=object)
PLATFORMS = np.array(["ios", "android", "web"], dtype=object)
MARKETS = np.array(["de", "fr", "es", "it"], dtype=object)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def world(n: int, seed: int) -> tuple[Any, list[Any]]:
    """(prediction spans, [outcome logs, purchase logs, pipeline-run logs]) as Arrow tables."""
    import pyarrow as pa

    from otel_impact import semconv as sc

    rng = np.random.default_rng(seed)
    base = int(START.timestamp()) * 10**9
    users = max(1, n // 20)
    ts = np.sort(rng.integers(0, DAYS * DAY_NS // 10**6, size=n)) * 10**6
    day = ts // DAY_NS
    version = np.where(day >= 20, 2, rng.integers(0, 2, size=n))
    user = rng.integers(0, users, size=n)
    score = rng.beta(2, 5, size=n)
    label = (rng.random(n) < score).astype(np.int64)
    pid = np.arange(n)
    spans = pa.table(
        {
            "Timestamp": pa.array(ts + base, type=pa.timestamp("ns")),
            "TraceId": ids("t", pid, 31),
            "SpanId": ids("s", pid, 15),
            "TraceState": const("", n),
            "SpanName": const("predict ranker", n),
            "SpanKind": const("Internal", n),
            "ServiceName": const("recommender", n),
            "SpanAttributes": attr_map(
                [
                    sc.ML_MODEL_NAME,
                    sc.ML_MODEL_VERSION,
                    sc.ML_PREDICTION_ID,
                    sc.USER_ID,
                    sc.ML_PREDICTION_SCORE,
                    sc.segment_attribute("platform"),
                    sc.segment_attribute("market"),
                ],
                [
                    const("ranker", n),
                    pa.array(VERSIONS[version]),
                    ids("p", pid, 9),
                    ids("u", user, 8),
                    pa.array(np.round(score, 4)),
                    pa.array(PLATFORMS[user % len(PLATFORMS)]),
                    pa.array(MARKETS[user % len(MARKETS)]),
                ],
                n,
            ),
            "Duration": pa.array(rng.gamma(4.0, 5e6, size=n).astype(np.uint64)),
            "StatusCode": const("Unset", n),
        }
    )
    half = rng.random(n) < 0.5
    o_n = int(half.sum())
    outcomes = pa.table(
        {
            "Timestamp": pa.array(ts[half] + base + 3_600 * 10**9, type=pa.timestamp("ns")),
            "ServiceName": const("feedback", o_n),
            "EventName": const(sc.EVENT_ML_OUTCOME, o_n),
            "LogAttributes": attr_map(
                [sc.ML_PREDICTION_ID, sc.ML_OUTCOME_LABEL],
                [ids("p", pid[half], 9), pa.array(label[half])],
                o_n,
            ),
        }
    )
    m = max(1, n // 10)
    p_ts = np.sort(rng.integers(0, DAYS * DAY_NS // 10**6, size=m)) * 10**6
    purchases = pa.table(
        {
            "Timestamp": pa.array(p_ts + base, type=pa.timestamp("ns")),
            "ServiceName": const("checkout", m),
            "EventName": const(sc.business_event("purchase"), m),
            "LogAttributes": attr_map(
                [sc.USER_ID, sc.BUSINESS_VALUE],
                [
                    ids("u", rng.integers(0, users, size=m), 8),
                    pa.array(np.round(rng.gamma(2.0, 20.0, size=m), 2)),
                ],
                m,
            ),
        }
    )
    r_ts = (np.arange(DAYS) * DAY_NS + 2 * 3_600 * 10**9).astype(np.int64)
    runs = pa.table(
        {
            "Timestamp": pa.array(r_ts + base, type=pa.timestamp("ns")),
            "ServiceName": const("airflow", DAYS),
            "EventName": const(sc.EVENT_PIPELINE_RUN, DAYS),
            "LogAttributes": attr_map(
                [sc.PIPELINE_NAME, sc.PIPELINE_STATUS, sc.DATASET_NAME, sc.DATA_VERSION],
                [
                    const("features_daily", DAYS),
                    const("success", DAYS),
                    const("features", DAYS),
                    pa.array(np.array([f"2026-10-{d + 1:02d}" for d in range(DAYS)], dtype=object)),
                ],
                DAYS,
            ),
        }
    )
    return spans, [outcomes, purchases, runs]


CONFIG = {
    "models": ["ranker"],
    "business_metrics": [{"name": "purchase", "source": {"event": "business.purchase"}, "key": "user.id",
                          "window": "3d", "value": "sum"}],
    "segments": ["platform", "market"],
    "series": {"bucket": "1d", "model_metrics": ["ctr", "volume", "latency_p95_ms", "mean_score", "auc", "accuracy"]},
    "lift": {"enabled": True, "treatment": {"ml.model.version": "v2"}, "control": {"ml.model.version": "v1"}},
    "pipelines": {"features_daily": {"schedule": "1d", "grace": "2h", "dataset": "features"}},
    "incidents": {"enabled": True, "metrics": ["auc", "accuracy", "mean_score"], "bucket": "1d"},
    "job": {"first_run": f"{DAYS}d"},
}  # fmt: skip


def run(n: int, batch: int, seed: int) -> dict[str, Any]:
    import clickhouse_connect

    from otel_impact import semconv as sc
    from otel_impact.config import config_from_dict
    from otel_impact.job import run_job
    from otel_impact.store import apply_schema

    t0 = time.perf_counter()
    spans, logs = world(n, seed)
    t_gen = time.perf_counter() - t0
    db = f"bench_job_{n}"
    admin = clickhouse_connect.get_client(dsn="chdb://memory")
    admin.command(f"DROP DATABASE IF EXISTS {db}")
    client = clickhouse_connect.get_client(dsn="chdb://memory")
    apply_schema(client, database=db)
    client.database = db
    t_spans = insert_batches(client, sc.TABLE_TRACES, spans, batch)
    t_logs = sum(insert_batches(client, sc.TABLE_LOGS, t, batch) for t in logs)
    rows = (spans.num_rows, sum(t.num_rows for t in logs))
    del spans, logs
    end = START + timedelta(days=DAYS)
    cfg = config_from_dict(CONFIG)
    t0 = time.perf_counter()
    out = run_job(client, cfg, since=START, until=end, now=end, export=False)
    t_job = time.perf_counter() - t0
    admin.command(f"DROP DATABASE {db}")
    assert out.result.run is not None and out.result.run.stage_seconds is not None
    return {
        "n": n,
        "spans": rows[0],
        "logs": rows[1],
        "generate_s": t_gen,
        "load_spans_s": t_spans,
        "load_logs_s": t_logs,
        "job_s": t_job,
        "stages": dict(out.result.run.stage_seconds),
        "alerts": len(out.result.firing_alerts()),
        "warnings": len(out.result.warnings),
        "rss_mb": peak_rss_mb(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, action="append", help="predictions (repeatable); default 1M and 10M")
    ap.add_argument("--batch", type=int, default=100_000, help="rows per insert (a Collector batch)")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    sizes = args.n or [1_000_000, 10_000_000]
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; cpus {os.cpu_count()}")
    results = [run(n, args.batch, args.seed) for n in sizes]
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print()
    print(
        "| N predictions | spans / logs | load into otel_traces + otel_logs | job (every stage) | peak RSS |"
    )
    print("|---:|---:|---:|---:|---:|")
    for r in results:
        load = r["load_spans_s"] + r["load_logs_s"]
        print(
            f"| {r['n']:,} | {r['spans']:,} / {r['logs']:,} | {load:.1f} s ({r['spans'] / r['load_spans_s']:,.0f} spans/s) "
            f"| **{r['job_s']:.1f} s** | {r['rss_mb']:,.0f} MB |"
        )
    print()
    names = list(results[-1]["stages"])
    print("| stage | " + " | ".join(f"N = {r['n']:,}" for r in results) + " |")
    print("|---|" + "---:|" * len(results))
    for name in names:
        print(f"| {name} | " + " | ".join(f"{r['stages'].get(name, 0.0):.2f} s" for r in results) + " |")
    rest = [r["job_s"] - sum(r["stages"].values()) for r in results]
    print(
        "| (job around the stages: lock, plan, watermark) | " + " | ".join(f"{x:.2f} s" for x in rest) + " |"
    )
    print()
    for r in results:
        print(f"N = {r['n']:,}: {r['alerts']} alert(s) firing, {r['warnings']} warning(s)")


if __name__ == "__main__":
    main()
