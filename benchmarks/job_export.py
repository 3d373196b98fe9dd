"""Cost of the job's export path and of the dashboards' deduplicated view.

Run:  .venv/bin/python benchmarks/job_export.py [--series 200] [--buckets 720] [--runs 3] [--repeats 5]

1. Encoding ``impact.*`` points with explicit timestamps (one result of ``series × buckets`` series
   values plus window-level estimates), CPU time, median of repeats, interleaved:
   * ``ours``  — ``result_points`` → SDK ``MetricsData`` → the SDK's OTLP protobuf encoder (what
                 ``OtlpResultExporter`` sends);
   * ``peer``  — the same points written straight into the ``opentelemetry.proto`` request
                 message (no SDK data model): the floor for any OTLP encoding in Python.
2. Reading the deduplicated view after ``runs`` re-exports of the same window (embedded chDB,
   wall time, median): ``impact_metrics_latest`` (argMax per point over all runs) vs. the peer
   query that reads only the latest run's rows from ``otel_metrics_gauge`` (no dedup).
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from otel_impact import semconv as sc
from otel_impact.export.otlp import build_metrics_data
from otel_impact.export.points import ImpactPoint, result_points
from otel_impact.records import Correlation, Result, ResultWindow, Series

START = datetime(2026, 1, 1, tzinfo=UTC)


def make_result(series: int, buckets: int) -> Result:
    times = [START + timedelta(hours=h) for h in range(buckets)]
    return Result(
        window=ResultWindow(start=times[0], end=START + timedelta(hours=buckets)),
        series=[
            Series(
                name=f"s{i % 10}",
                kind="model",
                segment={"platform": f"p{i}"},
                buckets=times,
                values=[float(h % 17) for h in range(buckets)],
            )
            for i in range(series)
        ],
        correlations=[
            Correlation(
                model_name="bench",
                segment={"platform": f"p{i}"},
                model_metric="ctr",
                business_metric="purchase",
                estimate=0.5,
                ci=[0.1, 0.8],
                pvalue=0.01,
                pvalue_unadjusted=0.01,
                n=buckets,
                n_eff=float(buckets),
                method="pearson",
                effective_n_method="none",
                correction="none",
                lag_s=3600.0,
                lag_buckets=1,
                lags=[],
            )
            for i in range(series)
        ],
    )


def ours(doc: Result) -> int:
    points = result_points(doc, run_id="bench")
    return len(encode_metrics(build_metrics_data(points, "bench")).SerializeToString())


def peer(points: list[ImpactPoint]) -> int:
    req = ExportMetricsServiceRequest()
    rm = req.resource_metrics.add()
    rm.resource.attributes.append(KeyValue(key=sc.SERVICE_NAME, value=AnyValue(string_value="bench")))
    sm = rm.scope_metrics.add()
    sm.scope.name = sc.ANALYZER_SCOPE
    by_name: dict[str, Any] = {}
    for p in points:
        metric = by_name.get(p.name)
        if metric is None:
            metric = by_name[p.name] = sm.metrics.add(name=p.name, unit=p.unit, description=p.description)
        dp = metric.gauge.data_points.add(
            start_time_unix_nano=p.time_unix_nano, time_unix_nano=p.time_unix_nano, as_double=p.value
        )
        for k, v in p.attributes.items():
            dp.attributes.append(KeyValue(key=k, value=AnyValue(string_value=str(v))))
    return len(req.SerializeToString())


def cpu(fn: Any, *args: Any) -> float:
    t = time.thread_time_ns()
    fn(*args)
    return (time.thread_time_ns() - t) / 1e9


def bench_encode(series: int, buckets: int, repeats: int) -> None:
    doc = make_result(series, buckets)
    points = result_points(doc, run_id="bench")
    a, b, c = [], [], []
    for _ in range(repeats):
        a.append(cpu(ours, doc))
        b.append(cpu(peer, points))
        c.append(cpu(lambda d: result_points(d, run_id="bench"), doc))
    n = len(points)
    print(
        f"encode {n:,} points ({series} series × {buckets} buckets + {n - series * buckets} window estimates)"
    )
    print(
        f"  ours (result_points + SDK MetricsData + SDK encoder): {statistics.median(a):.3f} s  "
        f"({n / statistics.median(a):,.0f} points/s)"
    )
    print(f"    of which result_points:                            {statistics.median(c):.3f} s")
    print(
        f"  peer (points → protobuf message directly):            {statistics.median(b):.3f} s  "
        f"({n / statistics.median(b):,.0f} points/s)"
    )


def bench_view(series: int, buckets: int, runs: int, repeats: int) -> None:
    from otel_impact.store import apply_schema, connect

    client = connect("chdb://memory")
    apply_schema(client, database="bench_job_export")
    client = connect("chdb://memory", database="bench_job_export")
    doc = make_result(series, buckets)
    cols = ["ServiceName", "MetricName", "MetricUnit", "Attributes", "StartTimeUnix", "TimeUnix", "Value"]
    last = ""
    for r in range(runs):
        last = f"2026010{r}T000000.000000Z-bench"
        rows = [
            [
                "bench",
                p.name,
                p.unit,
                {k: str(v) for k, v in p.attributes.items()},
                datetime.fromtimestamp(p.time_unix_nano / 1e9, UTC).replace(tzinfo=None),
                datetime.fromtimestamp(p.time_unix_nano / 1e9, UTC).replace(tzinfo=None),
                p.value,
            ]
            for p in result_points(doc, run_id=last)
        ]
        client.insert("otel_metrics_gauge", rows, column_names=cols)
    view_q = "SELECT count(), sum(Value) FROM impact_metrics_latest WHERE MetricName = {m:String}"
    peer_q = (
        "SELECT count(), sum(Value) FROM otel_metrics_gauge WHERE MetricName = {m:String} "
        "AND Attributes[{k:String}] = {run:String}"
    )
    params = {"m": sc.METRIC_IMPACT_SERIES, "k": sc.IMPACT_RUN_ID, "run": last}
    a, b = [], []
    got_a = got_b = None
    for _ in range(repeats):
        t = time.perf_counter()
        got_a = client.query(view_q, parameters=params).result_rows
        a.append(time.perf_counter() - t)
        t = time.perf_counter()
        got_b = client.query(peer_q, parameters=params).result_rows
        b.append(time.perf_counter() - t)
    assert got_a == got_b, (got_a, got_b)
    raw = client.query("SELECT count() FROM otel_metrics_gauge").result_rows[0][0]
    print(
        f"read impact.series after {runs} exports of the same window ({raw:,} raw rows, {got_a[0][0]:,} distinct)"
    )
    print(f"  ours (impact_metrics_latest, dedup by argMax):  {statistics.median(a) * 1000:.0f} ms")
    print(f"  peer (latest run's rows only, no dedup):        {statistics.median(b) * 1000:.0f} ms")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--series", type=int, default=200)
    ap.add_argument("--buckets", type=int, default=720)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    bench_encode(args.series, args.buckets, args.repeats)
    bench_view(args.series, args.buckets, args.runs, args.repeats)


if __name__ == "__main__":
    main()
