"""Benchmark of the incidents stage's heavy part: per-bucket model metrics and drift inputs.

Generates ``--n`` prediction spans over 30 days (plus one ``ml.outcome`` label each) inside
chDB with ``INSERT … SELECT FROM numbers()``, then times, on the same data:

* the project's SQL (``otel_impact.store.incidents.model_metrics`` — volume, mean score, error
  rate, p95 latency, accuracy and AUC per daily bucket — and ``score_samples`` — a deterministic
  5,000-score sample and feature-hash novelty per bucket);
* the peer: fetching the raw rows (score, label, weight, bucket, duration) into pandas and
  computing the same per-bucket metrics there (groupby + ``sklearn.metrics.roc_auc_score`` per
  bucket), fetch and compute timed separately;
* the pure anomaly detection over ``--series`` series of 90 buckets.

Run: ``.venv/bin/python benchmarks/incidents.py --n 1000000`` (embedded chDB in memory).
"""

from __future__ import annotations

import argparse
import resource
import time
import uuid

import numpy as np

DAY_NS = 86_400 * 10**9
START_NS = 1_793_491_200 * 10**9  # 2026-11-01T00:00:00Z


def _load(client: object, n: int) -> None:
    step = 30 * DAY_NS // n  # ns between consecutive predictions
    client.command(  # type: ignore[attr-defined]
        f"""
        INSERT INTO otel_traces (Timestamp, TraceId, SpanId, SpanName, ServiceName, SpanAttributes, Duration)
        SELECT
            fromUnixTimestamp64Nano(toInt64({START_NS} + number * {step})),
            lower(hex(cityHash64(number, 1))) || lower(hex(cityHash64(number, 2))),
            lower(hex(cityHash64(number, 3))),
            'predict ranker', 'recommender',
            map('ml.model.name', 'ranker', 'ml.model.version', 'v1',
                'ml.prediction.id', 'p' || toString(number),
                'ml.prediction.score', toString(
                    1 / (1 + exp(-((if(cityHash64(number, 4) % 2 = 1, 1.5, -1.5))
                                   + (cityHash64(number, 5) % 2000 - 1000) / 500.0)))),
                'ml.features.hash', 'h' || toString(cityHash64(number, 6) % 5000)),
            toUInt64(1000000 + cityHash64(number, 7) % 50000000)
        FROM numbers({n})
        """
    )
    client.command(  # type: ignore[attr-defined]
        f"""
        INSERT INTO otel_logs (Timestamp, EventName, ServiceName, LogAttributes)
        SELECT
            fromUnixTimestamp64Nano(toInt64({START_NS} + number * {step} + 60000000000)),
            'ml.outcome', 'labeler',
            map('ml.prediction.id', 'p' || toString(number), 'ml.outcome.label', toString(cityHash64(number, 4) % 2))
        FROM numbers({n})
        """
    )


def _pandas_peer(client: object) -> tuple[float, float, int]:
    import pandas as pd
    from sklearn.metrics import roc_auc_score

    t0 = time.perf_counter()
    df = client.query_df(  # type: ignore[attr-defined]
        """
        SELECT intDiv(toUnixTimestamp64Nano(p.ts) - {s:Int64}, {b:Int64}) AS b, p.score AS score,
               p.adjusted_count AS w, p.is_error AS err, p.duration_ns AS d, toInt8OrNull(o.label) AS y
        FROM impact_predictions AS p
        LEFT JOIN (SELECT prediction_id, argMax(label, ts) AS label FROM impact_events
                   WHERE event_name = 'ml.outcome' GROUP BY prediction_id) AS o
        ON p.prediction_id = o.prediction_id
        """,
        parameters={"s": START_NS, "b": DAY_NS},
    )
    t1 = time.perf_counter()
    rows = []
    for b, g in df.groupby("b", sort=True):
        lab = g[g["y"].notna()]
        rows.append(
            {
                "b": b,
                "volume": g["w"].sum(),
                "mean_score": np.average(g["score"], weights=g["w"]),
                "error_rate": np.average(g["err"], weights=g["w"]),
                "latency_p95": np.quantile(g["d"], 0.95) / 1e6,
                "accuracy": np.average((lab["score"] >= 0.5) == (lab["y"] == 1), weights=lab["w"]),
                "auc": roc_auc_score(lab["y"], lab["score"]),
            }
        )
    out = pd.DataFrame(rows)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, len(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="prediction spans")
    ap.add_argument("--series", type=int, default=1000, help="series for the detection timing")
    args = ap.parse_args()

    import clickhouse_connect

    from otel_impact.analyze.anomaly import detect_anomalies
    from otel_impact.store import apply_schema
    from otel_impact.store.incidents import model_metrics, score_samples

    db = "bench_" + uuid.uuid4().hex[:8]
    admin = clickhouse_connect.get_client(dsn="chdb://memory")
    admin.command(f"CREATE DATABASE {db}")
    client = clickhouse_connect.get_client(dsn="chdb://memory", database=db)
    apply_schema(client, database=db)
    t = time.perf_counter()
    _load(client, args.n)
    print(f"load: {args.n:,} spans + {args.n:,} outcome events in {time.perf_counter() - t:.1f} s")

    end_ns = START_NS + 30 * DAY_NS
    t = time.perf_counter()
    m = model_metrics(
        client, start_ns=START_NS, end_ns=end_ns, bucket_ns=DAY_NS, label_until_ns=end_ns + DAY_NS
    )
    t_metrics = time.perf_counter() - t
    t = time.perf_counter()
    s = score_samples(
        client,
        start_ns=START_NS,
        end_ns=end_ns,
        bucket_ns=DAY_NS,
        ref_end_ns=START_NS + 7 * DAY_NS,
        sample=5000,
    )
    t_samples = time.perf_counter() - t
    fetch, compute, nrows = _pandas_peer(client)
    print(f"project SQL  model_metrics: {t_metrics:.2f} s ({len(m['b'])} buckets)")
    print(f"project SQL  score_samples: {t_samples:.2f} s ({len(s['b'])} buckets)")
    print(f"pandas peer  fetch raw rows: {fetch:.2f} s, compute: {compute:.2f} s ({nrows} buckets)")
    print(f"speed-up (metrics SQL vs pandas fetch+compute): {(fetch + compute) / t_metrics:.1f}x")

    rng = np.random.default_rng(0)
    data = 0.8 + rng.normal(0, 0.01, (args.series, 90))
    t = time.perf_counter()
    found = sum(bool(detect_anomalies(x, period=7).anomalies) for x in data)
    t_det = time.perf_counter() - t
    print(f"detect_anomalies: {args.series} series × 90 buckets in {t_det:.2f} s "
          f"({1e3 * t_det / args.series:.2f} ms/series; {found} flagged)")  # fmt: skip
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    admin.command(f"DROP DATABASE IF EXISTS {db} SYNC")


if __name__ == "__main__":
    main()
