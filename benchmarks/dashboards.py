"""What deduplication costs a dashboard: a panel over ``impact_metrics_latest`` vs the same panel over
the raw ``otel_metrics_gauge`` rows (which double-counts re-runs: the lower bound, not an option).

Synthetic impact.series points (series × hourly buckets), exported again by ``--runs`` analyzer
runs (each re-run re-covers the whole window, the worst case), in an in-memory chDB::

    .venv/bin/python benchmarks/dashboards.py --series 200 --buckets 720 --runs 10

Prints the median wall time of each query form over ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

SERIES_PANEL = """
SELECT TimeUnix AS time, concat(Attributes['impact.segment.key'], '=', Attributes['impact.segment.value']) AS segment,
  {value} AS value
FROM {table}
WHERE MetricName = 'impact.series' AND Attributes['impact.series.name'] = 'ctr'
  AND Attributes['impact.segment.key'] != 'all'
GROUP BY time, segment
ORDER BY time
"""

LATEST_TABLE = """
SELECT Attributes['impact.series.name'] AS name, Attributes['impact.segment.value'] AS segment,
  {value} AS last_value
FROM {table}
WHERE MetricName = 'impact.series'
GROUP BY name, segment
"""


def populate(client: Any, series: int, buckets: int, runs: int) -> int:
    """``series`` impact.series (10 names × segments) × ``buckets`` hours, exported by ``runs`` runs."""
    client.command(
        """
        INSERT INTO otel_metrics_gauge (ServiceName, MetricName, Attributes, TimeUnix, Value)
        SELECT 'otel-impact-analyzer', 'impact.series',
          map('impact.series.name', ['ctr', 'auc', 'volume', 'mean_score', 'purchase', 'purchase.events',
                                     'accuracy', 'latency_p95_ms', 'error_rate', 'recall'][s % 10 + 1],
              'impact.series.kind', 'model',
              'impact.segment.key', if(s < 10, 'all', 'tenure'),
              'impact.segment.value', if(s < 10, 'all', concat('seg', toString(intDiv(s, 10)))),
              'impact.run.id', concat('2026', leftPad(toString(r), 6, '0')),
              'impact.window.start', '', 'impact.window.end', ''),
          toDateTime('2026-10-01 00:00:00') + toIntervalHour(b),
          sin(b / 24) + s / 100 + r / 1000
        FROM (SELECT number % {s:UInt32} AS s, intDiv(number, {s:UInt32}) % {b:UInt32} AS b,
                     intDiv(number, {s:UInt32} * {b:UInt32}) AS r
              FROM numbers({n:UInt64}))
        """,
        parameters={"s": series, "b": buckets, "n": series * buckets * runs},
    )
    return int(client.query("SELECT count() FROM otel_metrics_gauge").result_rows[0][0])


def timed(client: Any, sql: str, repeat: int) -> tuple[float, int]:
    times, rows = [], 0
    for _ in range(repeat):
        t = time.perf_counter()
        rows = len(client.query(sql).result_rows)
        times.append(time.perf_counter() - t)
    return statistics.median(times), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=200)
    parser.add_argument("--buckets", type=int, default=720)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import clickhouse_connect

    from otel_impact.store import apply_schema

    admin = clickhouse_connect.get_client(dsn="chdb://memory")
    admin.command("CREATE DATABASE IF NOT EXISTS bench_dash")
    client = clickhouse_connect.get_client(dsn="chdb://memory", database="bench_dash")
    apply_schema(client, database="bench_dash")
    rows = populate(client, args.series, args.buckets, args.runs)
    print(f"{rows:,} gauge rows = {args.series} series × {args.buckets} buckets × {args.runs} runs")
    forms = (
        ("per-segment series panel", SERIES_PANEL, "argMax(Value, LatestRunId)", "avg(Value)"),
        (
            "latest-value table",
            LATEST_TABLE,
            "argMax(Value, (TimeUnix, LatestRunId))",
            "argMax(Value, TimeUnix)",
        ),
    )
    for label, panel, dedup_value, raw_value in forms:
        view, n_view = timed(
            client, panel.format(table="impact_metrics_latest", value=dedup_value), args.repeat
        )
        raw, n_raw = timed(client, panel.format(table="otel_metrics_gauge", value=raw_value), args.repeat)
        print(
            f"{label:28s} dedup view {view * 1000:8.1f} ms ({n_view} rows)   raw table {raw * 1000:8.1f} ms "
            f"({n_raw} rows)   ratio {view / raw:5.1f}×"
        )


if __name__ == "__main__":
    main()
