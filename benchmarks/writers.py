"""Store writers: OTLP spans → exporter-layout columns → chDB, spans per second.

Arms, all in one process on one in-memory chDB engine, interleaved, median of ``--repeats``:

* ``convert``          — :func:`otel_impact.store.columns.trace_columns` alone (pure Python).
* ``prepare_traces``   — the same conversion as the writers run it (cyclic GC paused).
* ``write_traces``     — conversion + column-oriented insert with cached column types into the
                         exporter's ``otel_traces`` as ``apply_schema`` creates it on chDB
                         (bloom-filter skip indexes + trace-id materialized view).
* ``write_traces, text indexes`` — the same into the exporter's ``text``-index branch (what a
                         server ≥ 26.2 gets).
* ``insert only: write path`` — the writers' insert (column-oriented, cached column types) of
                         pre-converted columns.
* ``peer: insert only, row-oriented`` — the same pre-converted data inserted the plain
                         clickhouse-connect way: row-oriented ``client.insert(table, rows,
                         column_names=...)`` (the driver DESCRIBEs the table on every call).
* ``write_traces, bare table`` — same as ``write_traces`` into a copy of the columns without skip
                         indexes or materialized view: the share of the cost that is the layout's.
* ``convert logs``     — :func:`otel_impact.store.columns.log_columns` on event records.

Wall time, this thread's CPU time (``time.thread_time``) and the process's CPU time (all
threads, chDB's insert threads included) are reported: on a shared machine CPU time is the
steadier figure.

    .venv/bin/python benchmarks/writers.py                  # 20 requests x 1000 spans, batch 10
    .venv/bin/python benchmarks/writers.py --requests 40 --batch 1 --repeats 3
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from otel_impact import semconv
from otel_impact.store import apply_schema, connect, write_traces
from otel_impact.store.columns import log_columns, trace_columns
from otel_impact.store.writers import prepare_traces

T0 = 1_763_000_000_000_000_000


def kv(key: str, value: Any) -> KeyValue:
    if isinstance(value, float):
        return KeyValue(key=key, value=AnyValue(double_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=value))


def span_request(n: int, seed: int) -> ExportTraceServiceRequest:
    """``n`` prediction spans shaped like ``track_prediction`` output (11 attributes, 1 event)."""
    rnd = random.Random(seed)
    spans = []
    for i in range(n):
        start = T0 + (seed * n + i) * 1000
        spans.append(
            Span(
                trace_id=rnd.randbytes(16),
                span_id=rnd.randbytes(8),
                name=semconv.prediction_span_name("recommender"),
                kind=Span.SPAN_KIND_INTERNAL,
                start_time_unix_nano=start,
                end_time_unix_nano=start + 1_500_000,
                attributes=[
                    kv(semconv.ML_MODEL_NAME, "recommender"),
                    kv(semconv.ML_MODEL_VERSION, "v2"),
                    kv(semconv.ML_PREDICTION_ID, uuid.UUID(int=rnd.getrandbits(128)).hex),
                    kv(semconv.ML_PREDICTION_SCORE, rnd.random()),
                    kv(semconv.ML_PREDICTION_LABEL, "buy"),
                    kv(semconv.USER_ID, f"u{rnd.randrange(10_000)}"),
                    kv(semconv.SESSION_ID, f"s{rnd.randrange(50_000)}"),
                    kv(semconv.segment_attribute("platform"), rnd.choice(["web", "ios", "android"])),
                    kv(semconv.segment_attribute("country"), rnd.choice(["de", "fr", "us"])),
                    kv(semconv.ML_FEATURES_HASH, f"{rnd.getrandbits(64):016x}"),
                    kv(semconv.ML_FEATURES_COUNT, 32),
                ],
                events=[Span.Event(time_unix_nano=start + 10, name="features.ready")],
            )
        )
    resource = Resource(attributes=[kv(semconv.SERVICE_NAME, "reco-api"), kv("service.version", "1.4.2")])
    scope = InstrumentationScope(name=semconv.INSTRUMENTATION_SCOPE, version="0.1.0")
    return ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(resource=resource, scope_spans=[ScopeSpans(scope=scope, spans=spans)])]
    )


def log_request(n: int, seed: int) -> ExportLogsServiceRequest:
    rnd = random.Random(seed)
    records = [
        LogRecord(
            time_unix_nano=T0 + i,
            event_name=semconv.business_event("purchase"),
            attributes=[
                kv(semconv.USER_ID, f"u{rnd.randrange(10_000)}"),
                kv(semconv.BUSINESS_VALUE, round(rnd.uniform(1, 100), 2)),
                kv(semconv.BUSINESS_CURRENCY, "EUR"),
            ],
        )
        for i in range(n)
    ]
    return ExportLogsServiceRequest(resource_logs=[ResourceLogs(scope_logs=[ScopeLogs(log_records=records)])])


BARE_TRACES = """
CREATE TABLE {name} (
    Timestamp DateTime64(9), TraceId String, SpanId String, ParentSpanId String, TraceState String,
    SpanName LowCardinality(String), SpanKind LowCardinality(String), ServiceName LowCardinality(String),
    ResourceAttributes Map(LowCardinality(String), String), ScopeName String, ScopeVersion String,
    SpanAttributes Map(LowCardinality(String), String), Duration UInt64, StatusCode LowCardinality(String),
    StatusMessage String,
    Events Nested (Timestamp DateTime64(9), Name LowCardinality(String), Attributes Map(LowCardinality(String), String)),
    Links Nested (TraceId String, SpanId String, TraceState String, Attributes Map(LowCardinality(String), String))
) ENGINE = MergeTree PARTITION BY toDate(Timestamp) ORDER BY (ServiceName, SpanName, toDateTime(Timestamp), Timestamp)
"""


def timed(fn: Callable[[], None]) -> tuple[float, float, float]:
    wall, cpu, proc = time.perf_counter(), time.thread_time(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.thread_time() - cpu, time.process_time() - proc


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=20, help="requests of --spans spans each")
    parser.add_argument("--spans", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=10, help="requests per write call")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    requests = [span_request(args.spans, seed) for seed in range(args.requests)]
    logs = [log_request(args.spans, seed) for seed in range(args.requests)]
    batches = [requests[i : i + args.batch] for i in range(0, len(requests), args.batch)]
    total = args.requests * args.spans

    client = connect("chdb://memory")
    database = "bench_writers_" + uuid.uuid4().hex[:8]
    apply_schema(client, database=database)
    apply_schema(client, database=database + "_text", text_indexes=True)
    client.database = database
    client.command(BARE_TRACES.format(name="bare_traces"))
    converted = [trace_columns(batch) for batch in batches]
    row_batches = [list(zip(*cols.values(), strict=True)) for cols in converted]

    def convert() -> None:
        for batch in batches:
            trace_columns(batch)

    def prepare() -> None:
        for batch in batches:
            prepare_traces(batch)

    def write() -> None:
        for batch in batches:
            write_traces(client, batch)

    def write_text() -> None:
        client.database = database + "_text"
        try:
            write()
        finally:
            client.database = database

    def insert_columns() -> None:
        from otel_impact.store import writers

        for cols in converted:
            writers._insert(client, semconv.TABLE_TRACES, cols)

    def peer_rows() -> None:
        for cols, rows in zip(converted, row_batches, strict=True):
            client.insert(semconv.TABLE_TRACES, rows, column_names=list(cols))

    def write_bare() -> None:
        from otel_impact.store import writers

        for batch in batches:
            writers._insert(client, "bare_traces", trace_columns(batch))

    def convert_logs() -> None:
        for i in range(0, len(logs), args.batch):
            log_columns(logs[i : i + args.batch])

    arms: dict[str, Callable[[], None]] = {
        "convert": convert,
        "prepare_traces": prepare,
        "write_traces": write,
        "write_traces, text indexes": write_text,
        "insert only: write path (columns)": insert_columns,
        "peer: insert only, row-oriented": peer_rows,
        "write_traces, bare table": write_bare,
        "convert logs (business events)": convert_logs,
    }
    results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in arms}
    for _ in range(args.repeats):
        for name, fn in arms.items():
            # every arm starts from empty tables, so no arm pays for another's background merges
            for table in (semconv.TABLE_TRACES, semconv.TABLE_TRACES_ID_TS, "bare_traces"):
                client.command(f"TRUNCATE TABLE {table}")
            for table in (semconv.TABLE_TRACES, semconv.TABLE_TRACES_ID_TS):
                client.command(f"TRUNCATE TABLE {database}_text.{table}")
            results[name].append(timed(fn))

    print(f"{total:,} items per arm, {args.batch * args.spans:,} per write call, median of {args.repeats}")
    print(f"{'arm':36} {'wall items/s':>14} {'thread-CPU items/s':>20} {'process-CPU µs/item':>20}")
    for name, samples in results.items():
        wall = statistics.median(s[0] for s in samples)
        cpu = statistics.median(s[1] for s in samples)
        proc = statistics.median(s[2] for s in samples)
        print(f"{name:36} {total / wall:>14,.0f} {total / cpu:>20,.0f} {proc / total * 1e6:>20.1f}")


if __name__ == "__main__":
    main()
