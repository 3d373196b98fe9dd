"""Benchmark: per-bucket model series in ClickHouse vs pandas, and the lift bootstrap vs scipy.

Part 1 — series aggregation. N prediction spans over 30 days (3 versions, 2 segment keys with
2-3 values each, sampling weights) are generated server-side into ``otel_traces``; then

* chDB: :func:`otel_impact.store.series.model_series` (volume, mean score, error rate, weighted
  latency p50/p95 per day × model × version incl. "all" × segment incl. "all users") — only the
  aggregate comes back;
* pandas peer: fetch the raw columns from the typed view (``impact_predictions``) as numpy, then
  the same aggregation with ``groupby`` (one pass per segment key + all, versions + all).

Both must agree on total volume per (version, segment); the check is printed.

Part 2 — the lift bootstrap. Relative lift of two arms of n users each, ``B`` percentile
bootstrap resamples: :func:`otel_impact.analyze.lift.lift` (chunked vectorised resampling) vs
``scipy.stats.bootstrap`` (``vectorized=True``, percentile method) on the same data.

    .venv/bin/python benchmarks/series_stats.py                  # N=2M, n=20k, B=2000
    .venv/bin/python benchmarks/series_stats.py --n 200000       # quick run
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

DAY = 86400.0


def setup_store(n: int) -> tuple[Any, Any, Any]:
    import clickhouse_connect

    from otel_impact.config import config_from_dict
    from otel_impact.pipeline import Window
    from otel_impact.store import apply_schema

    name = "bench_series_" + uuid.uuid4().hex[:8]
    root = clickhouse_connect.get_client(dsn="chdb://memory")
    root.command(f"CREATE DATABASE {name}")
    client = clickhouse_connect.get_client(dsn="chdb://memory", database=name)
    apply_schema(client, database=name)
    start = datetime(2026, 10, 1, tzinfo=UTC)
    client.command(
        """
        INSERT INTO otel_traces (Timestamp, TraceId, SpanId, SpanName, ServiceName, SpanAttributes, Duration)
        SELECT
            fromUnixTimestamp64Nano(toInt64({start_ns:Int64} + (cityHash64(number, 1) % (30 * 86400000)) * 1000000)),
            lower(hex(cityHash64(number, 2))), lower(hex(cityHash64(number, 3))),
            'predict ranker', 'recommender',
            map('ml.model.name', 'ranker',
                'ml.model.version', ['v1', 'v2', 'v3'][1 + cityHash64(number, 4) % 3],
                'ml.prediction.id', toString(number),
                'ml.prediction.score', toString(round((cityHash64(number, 5) % 1000) / 1000, 3)),
                'user.id', concat('u', toString(cityHash64(number, 6) % {users:UInt64})),
                'ml.segment.platform', ['mobile', 'web'][1 + cityHash64(number, 7) % 2],
                'ml.segment.tenure', ['new', 'casual', 'power'][1 + cityHash64(number, 8) % 3],
                'sampling.adjusted_count', if(cityHash64(number, 9) % 10 = 0, '2', '1')),
            toUInt64(1000000 + cityHash64(number, 10) % 300000000)
        FROM numbers({n:UInt64})
        """,
        parameters={"start_ns": int(start.timestamp()) * 10**9, "n": n, "users": max(1, n // 20)},
    )
    cfg = config_from_dict({"segments": ["platform", "tenure"]})
    return client, cfg, Window(start, start + timedelta(days=30))


def pandas_series(client: Any, window: Any) -> tuple[Any, float, float]:
    import pandas as pd

    t0 = time.perf_counter()
    res = client.query(
        "SELECT toInt64(toUnixTimestamp64Nano(ts)) AS t, model_name, model_version, segments['platform'] AS platform,"
        " segments['tenure'] AS tenure, score, is_error, duration_ns, adjusted_count FROM impact_predictions"
        " WHERE ts >= {s:DateTime64(9)} AND ts < {e:DateTime64(9)}",
        parameters={"s": window.start, "e": window.end},
    )
    df = pd.DataFrame(res.result_rows, columns=res.column_names)
    fetched = time.perf_counter() - t0
    t0 = time.perf_counter()
    start_ns = int(window.start.timestamp()) * 10**9
    df["bucket"] = (df["t"] - start_ns) // int(DAY * 1e9)
    df["a"] = df["adjusted_count"]
    df["as"] = df["a"] * df["score"]
    df["ae"] = df["a"] * df["is_error"]
    parts = []
    for ver_all in (True, False):
        for seg in (None, "platform", "tenure"):
            keys = ["bucket", "model_name"] + ([] if ver_all else ["model_version"]) + ([seg] if seg else [])
            g = df.groupby(keys, sort=False)
            agg = g.agg(volume=("a", "sum"), s=("as", "sum"), e=("ae", "sum"))
            agg["mean_score"] = agg["s"] / agg["volume"]
            agg["error_rate"] = agg["e"] / agg["volume"]
            # weighted quantiles: sort by duration, cumulative weight
            srt = df.sort_values("duration_ns")
            cw = srt.groupby(keys, sort=False)["a"].cumsum()
            tot = srt.groupby(keys, sort=False)["a"].transform("sum")
            frac = cw / tot
            p50 = srt[frac >= 0.5].groupby(keys, sort=False)["duration_ns"].first()
            p95 = srt[frac >= 0.95].groupby(keys, sort=False)["duration_ns"].first()
            agg["p50"], agg["p95"] = p50, p95
            parts.append(agg)
    grouped = time.perf_counter() - t0
    return parts, fetched, grouped


def bench_series(n: int) -> None:
    from otel_impact.store.series import model_series

    t0 = time.perf_counter()
    client, cfg, window = setup_store(n)
    print(f"setup: {n:,} spans generated server-side in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    cols = model_series(client, cfg, window, DAY)
    ours = time.perf_counter() - t0
    parts, fetched, grouped = pandas_series(client, window)
    all_rows = (cols["model_version"] == "") & (cols["segment_key"] == "")
    print(
        f"chDB model_series: {ours:.2f} s, {len(cols['bucket']):,} aggregate rows; "
        f"total volume {cols['volume'][all_rows].sum():,.0f}"
    )
    print(
        f"pandas peer: fetch {fetched:.2f} s + groupby {grouped:.2f} s = {fetched + grouped:.2f} s; "
        f"total volume {parts[0]['volume'].sum():,.0f}"
    )
    print(f"speed-up chDB vs pandas (incl. fetch): {(fetched + grouped) / ours:.1f}x")


def bench_bootstrap(n: int, b: int) -> None:
    from scipy import stats

    from otel_impact.analyze.lift import lift

    rng = np.random.default_rng(0)
    c = rng.gamma(4.0, 2.5, n)
    t = 1.05 * rng.gamma(4.0, 2.5, n)
    t0 = time.perf_counter()
    ours = lift(t, c, rng=np.random.default_rng(1), n_boot=b)
    ours_s = time.perf_counter() - t0

    def rel(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.mean(x, axis=axis) / np.mean(y, axis=axis) - 1.0

    t0 = time.perf_counter()
    ref = stats.bootstrap(
        (t, c),
        rel,
        n_resamples=b,
        method="percentile",
        vectorized=True,
        random_state=np.random.default_rng(1),
    )
    ref_s = time.perf_counter() - t0
    ci = ref.confidence_interval
    print(
        f"lift bootstrap n={n:,}/arm B={b}: ours {ours_s:.2f} s CI [{ours.ci.low:.4f}, {ours.ci.high:.4f}] "
        f"(incl. Welch test); scipy.stats.bootstrap {ref_s:.2f} s CI [{ci.low:.4f}, {ci.high:.4f}]"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2_000_000, help="prediction spans (part 1)")
    ap.add_argument("--users", type=int, default=20_000, help="users per arm (part 2)")
    ap.add_argument("--boot", type=int, default=2000, help="bootstrap resamples (part 2)")
    args = ap.parse_args()
    bench_series(args.n)
    bench_bootstrap(args.users, args.boot)


if __name__ == "__main__":
    main()
