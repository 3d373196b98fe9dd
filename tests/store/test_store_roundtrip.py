"""Writers → chDB → readers: ids, nanosecond timestamps, attributes and typed values survive."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    ArrayValue,
    InstrumentationScope,
    KeyValue,
    KeyValueList,
)
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.metrics.v1 import metrics_pb2 as m
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from otel_impact import semconv
from otel_impact.errors import StoreError
from otel_impact.store import (
    EVENT_COLUMNS,
    PREDICTION_COLUMNS,
    read_business_events,
    read_events,
    read_outcomes,
    read_pipeline_events,
    read_predictions,
    write_logs,
    write_metrics,
    write_traces,
)

T0 = 1_763_000_000_123_456_789  # 2025-11-13, with nanoseconds
TRACE = bytes.fromhex("0af7651916cd43dd8448eb211c80319c")
SPAN = bytes.fromhex("b7ad6b7169203331")
PARENT = bytes.fromhex("00f067aa0ba902b7")


def kv(key: str, value: Any) -> KeyValue:
    if isinstance(value, AnyValue):
        return KeyValue(key=key, value=value)
    if isinstance(value, bool):
        return KeyValue(key=key, value=AnyValue(bool_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    if isinstance(value, float):
        return KeyValue(key=key, value=AnyValue(double_value=value))
    if isinstance(value, bytes):
        return KeyValue(key=key, value=AnyValue(bytes_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=value))


RESOURCE = Resource(attributes=[kv(semconv.SERVICE_NAME, "reco-api"), kv("host.cpu", 4)])
SCOPE = InstrumentationScope(name=semconv.INSTRUMENTATION_SCOPE, version="0.1.0")

EDGE_ATTRIBUTES = [
    kv("a.int", -42),
    kv("a.double", 0.1),
    kv("a.bool", True),
    kv("a.bytes", b"\x00\x01"),
    kv("a.empty", ""),
    kv("a.unicode", "naïve — 日本 ✓"),
    kv(
        "a.array",
        AnyValue(array_value=ArrayValue(values=[AnyValue(string_value="x"), AnyValue(int_value=2)])),
    ),
    kv(
        "a.kvlist",
        AnyValue(
            kvlist_value=KeyValueList(values=[kv("z", 1.0), kv("b", False)]),
        ),
    ),
]


def prediction_span(i: int, **overrides: Any) -> Span:
    attrs = [
        kv(semconv.ML_MODEL_NAME, "recommender"),
        kv(semconv.ML_MODEL_VERSION, "v2"),
        kv(semconv.ML_PREDICTION_ID, f"p{i}"),
        kv(semconv.ML_PREDICTION_SCORE, 0.25 + i),
        kv(semconv.ML_PREDICTION_LABEL, "buy"),
        kv(semconv.USER_ID, f"u{i}"),
        kv(semconv.SESSION_ID, "s1"),
        kv(semconv.ML_REQUEST_ID, "r1"),
        kv(semconv.segment_attribute("platform"), "mobile"),
        kv(semconv.segment_attribute("country"), "de"),
        kv(semconv.ML_FEATURES_HASH, "f00d"),
        *overrides.pop("extra", []),
    ]
    fields: dict[str, Any] = {
        "trace_id": TRACE,
        "span_id": (i + 1).to_bytes(8, "big"),
        "name": semconv.prediction_span_name("recommender"),
        "kind": Span.SPAN_KIND_INTERNAL,
        "start_time_unix_nano": T0 + i,
        "end_time_unix_nano": T0 + i + 1_500_000,
        "attributes": attrs,
    }
    fields.update(overrides)
    return Span(**fields)


def traces(*spans: Span) -> ExportTraceServiceRequest:
    return ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(resource=RESOURCE, scope_spans=[ScopeSpans(scope=SCOPE, spans=list(spans))])
        ]
    )


WINDOW = (T0 - 10**9, T0 + 10**9)


def test_span_round_trip_with_edge_attributes_events_and_links(store: Any) -> None:
    span = Span(
        trace_id=TRACE,
        span_id=SPAN,
        parent_span_id=PARENT,
        trace_state="vendor=x",
        name="checkout",
        kind=Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=T0,
        end_time_unix_nano=T0 + 2_000_000_001,
        attributes=EDGE_ATTRIBUTES,
        events=[Span.Event(time_unix_nano=T0 + 7, name="retry", attributes=[kv("n", 2)])],
        links=[
            Span.Link(
                trace_id=bytes(range(16)),
                span_id=bytes(range(8)),
                trace_state="k=v",
                attributes=[kv("l", 1.5)],
            )
        ],
        status=Status(code=Status.STATUS_CODE_ERROR, message="boom"),
    )
    assert write_traces(store, [traces(span)]) == 1
    row = store.query(
        "SELECT toUnixTimestamp64Nano(Timestamp), TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind, "
        "ServiceName, ResourceAttributes, ScopeName, ScopeVersion, SpanAttributes, Duration, StatusCode, StatusMessage, "
        "arrayMap(t -> toUnixTimestamp64Nano(t), Events.Timestamp), Events.Name, Events.Attributes, "
        "Links.TraceId, Links.SpanId, Links.TraceState, Links.Attributes FROM otel_traces"
    ).result_rows
    assert row == [
        (
            T0,
            TRACE.hex(),
            SPAN.hex(),
            PARENT.hex(),
            "vendor=x",
            "checkout",
            "Client",
            "reco-api",
            {"service.name": "reco-api", "host.cpu": "4"},
            semconv.INSTRUMENTATION_SCOPE,
            "0.1.0",
            {
                "a.int": "-42",
                "a.double": "0.1",
                "a.bool": "true",
                "a.bytes": "AAE=",
                "a.empty": "",
                "a.unicode": "naïve — 日本 ✓",
                "a.array": '["x",2]',
                "a.kvlist": '{"b":false,"z":1}',
            },
            2_000_000_001,
            "Error",
            "boom",
            [T0 + 7],
            ["retry"],
            [{"n": "2"}],
            [bytes(range(16)).hex()],
            [bytes(range(8)).hex()],
            ["k=v"],
            [{"l": "1.5"}],
        )
    ]
    lookup = store.query(
        "SELECT TraceId, min(Start), max(End) FROM otel_traces_trace_id_ts GROUP BY TraceId"
    ).result_rows
    assert [r[0] for r in lookup] == [TRACE.hex()]


def test_predictions_view_round_trip(store: Any) -> None:
    write_traces(store, [traces(prediction_span(0), prediction_span(1))])
    cols = read_predictions(store, *WINDOW)
    assert tuple(cols) == PREDICTION_COLUMNS
    assert cols["ts"].dtype == np.dtype("datetime64[ns]")
    assert cols["ts"].astype(np.int64).tolist() == [T0, T0 + 1]
    assert cols["trace_id"].tolist() == [TRACE.hex()] * 2
    assert cols["span_id"].tolist() == [(1).to_bytes(8, "big").hex(), (2).to_bytes(8, "big").hex()]
    assert cols["prediction_id"].tolist() == ["p0", "p1"]
    assert cols["score"].tolist() == [0.25, 1.25]
    assert cols["segments"].tolist() == [{"platform": "mobile", "country": "de"}] * 2
    assert cols["service_name"].tolist() == ["reco-api"] * 2
    assert cols["user_id"].tolist() == ["u0", "u1"]
    assert cols["duration_ns"].dtype == np.uint64 and cols["duration_ns"].tolist() == [1_500_000] * 2
    assert cols["adjusted_count"].tolist() == [1.0, 1.0]
    assert cols["is_error"].tolist() == [0, 0]
    assert cols["span_kind"].tolist() == ["Internal"] * 2
    # window is half-open and the model filter applies
    assert len(read_predictions(store, T0 + 1, WINDOW[1])["ts"]) == 1
    assert len(read_predictions(store, *WINDOW, model="other")["ts"]) == 0
    assert len(read_predictions(store, *WINDOW, model="recommender")["ts"]) == 2


def test_prediction_view_score_missing_and_non_predictions(store: Any) -> None:
    no_score = prediction_span(0)
    del no_score.attributes[3]  # ml.prediction.score
    unparseable = prediction_span(1, extra=[kv(semconv.ML_PREDICTION_SCORE, "high")])
    plain = Span(
        trace_id=TRACE, span_id=SPAN, name="GET /", start_time_unix_nano=T0, end_time_unix_nano=T0 + 1
    )
    write_traces(store, [traces(no_score, unparseable, plain)])
    cols = read_predictions(store, *WINDOW)
    assert len(cols["ts"]) == 2
    assert all(math.isnan(x) for x in cols["score"])


ADJUSTED_CASES = [
    ("ot=th:8", None, 2.0),  # T = 2^55 → 2^56 / 2^55
    ("vendor=a,ot=rv:abcdefabcdef12;th:c", None, 4.0),  # T = 0.75·2^56
    ("ot=th:0", None, 1.0),
    ("ot=th:fffffffffffff", None, 2.0**56 / 16),  # 13 digits, right-padded with one 0
    ("", 10.0, 10.0),
    ("ot=th:zz", 3.0, 3.0),  # malformed threshold → attribute
    ("", 0.5, 1.0),  # attribute below 1 ignored
    ("", None, 1.0),
]


def test_adjusted_count_from_tracestate_or_attribute(store: Any) -> None:
    spans = []
    for i, (trace_state, attribute, _) in enumerate(ADJUSTED_CASES):
        extra = [kv(semconv.SAMPLING_ADJUSTED_COUNT, attribute)] if attribute is not None else []
        spans.append(prediction_span(i, trace_state=trace_state, extra=extra))
    write_traces(store, [traces(*spans)])
    got = read_predictions(store, *WINDOW)["adjusted_count"].tolist()
    assert got == [pytest.approx(expected, rel=1e-12) for _, _, expected in ADJUSTED_CASES]


def test_span_kind_and_status_spellings_are_normalised(store: Any) -> None:
    store.insert(
        semconv.TABLE_TRACES,
        [
            [T0, "t1", "s1", "SPAN_KIND_SERVER", "STATUS_CODE_ERROR", {semconv.ML_MODEL_NAME: "m"}],
            [T0 + 1, "t1", "s2", "Server", "Error", {semconv.ML_MODEL_NAME: "m"}],
            [T0 + 2, "t1", "s3", "Client", "Ok", {semconv.ML_MODEL_NAME: "m"}],
        ],
        column_names=["Timestamp", "TraceId", "SpanId", "SpanKind", "StatusCode", "SpanAttributes"],
    )
    cols = read_predictions(store, *WINDOW)
    assert cols["span_kind"].tolist() == ["Server", "Server", "Client"]
    assert cols["is_error"].tolist() == [1, 1, 0]
    for spelling in ("SPAN_KIND_SERVER", "Server", "server"):
        assert read_predictions(store, *WINDOW, span_kind=spelling)["span_id"].tolist() == ["s1", "s2"]


def event(name: str, offset: int, attrs: list[KeyValue], *, in_attribute: bool = False) -> LogRecord:
    record = LogRecord(
        time_unix_nano=T0 + offset,
        observed_time_unix_nano=T0 + offset + 5,
        trace_id=TRACE,
        span_id=SPAN,
        attributes=attrs,
        severity_number=9,
        severity_text="INFO",
        body=AnyValue(string_value="b"),
    )
    if in_attribute:
        record.attributes.append(kv(semconv.EVENT_NAME, name))
    else:
        record.event_name = name
    return record


def logs(*records: LogRecord) -> ExportLogsServiceRequest:
    return ExportLogsServiceRequest(
        resource_logs=[
            ResourceLogs(resource=RESOURCE, scope_logs=[ScopeLogs(scope=SCOPE, log_records=list(records))])
        ]
    )


def test_events_round_trip_and_reader_filters(store: Any) -> None:
    purchase = event(
        semconv.business_event("purchase"),
        0,
        [
            kv(semconv.USER_ID, "u1"),
            kv(semconv.SESSION_ID, "s1"),
            kv(semconv.BUSINESS_VALUE, 19.99),
            kv(semconv.BUSINESS_CURRENCY, "EUR"),
            kv(semconv.ML_PREDICTION_ID, "p0"),
            kv(semconv.ML_REQUEST_ID, "r1"),
        ],
    )
    outcome = event(
        semconv.EVENT_ML_OUTCOME,
        1,
        [
            kv(semconv.ML_PREDICTION_ID, "p0"),
            kv(semconv.ML_OUTCOME_LABEL, "buy"),
            kv(semconv.ML_OUTCOME_VALUE, 1),
        ],
        in_attribute=True,  # older SDKs put the event name in an attribute
    )
    run = event(semconv.EVENT_PIPELINE_RUN, 2, [kv(semconv.PIPELINE_NAME, "features")])
    incident = event(semconv.EVENT_PIPELINE_INCIDENT, 3, [kv(semconv.PIPELINE_NAME, "features")])
    untimed = event(semconv.business_event("signup"), 4, [])
    untimed.time_unix_nano = 0  # → observed time
    plain_log = LogRecord(time_unix_nano=T0, body=AnyValue(string_value="not an event"))
    assert write_logs(store, [logs(purchase, outcome, run, incident, untimed, plain_log)]) == 6

    everything = read_events(store, *WINDOW)
    assert tuple(everything) == EVENT_COLUMNS
    assert everything["event_name"].tolist() == [
        "business.purchase",
        "ml.outcome",
        "pipeline.run",
        "pipeline.incident",
        "business.signup",
    ]
    assert everything["ts"].astype(np.int64).tolist() == [T0, T0 + 1, T0 + 2, T0 + 3, T0 + 4 + 5]
    assert everything["trace_id"].tolist()[0] == TRACE.hex()

    business = read_business_events(store, *WINDOW)
    assert business["event_name"].tolist() == ["business.purchase", "business.signup"]
    assert business["value"][0] == 19.99 and math.isnan(business["value"][1])
    assert business["currency"].tolist() == ["EUR", ""]
    assert business["prediction_id"].tolist() == ["p0", ""]
    assert business["request_id"].tolist() == ["r1", ""]
    assert business["attributes"][0][semconv.BUSINESS_VALUE] == "19.99"

    outcomes = read_outcomes(store, *WINDOW)
    assert outcomes["label"].tolist() == ["buy"] and outcomes["value"].tolist() == [1.0]
    assert read_pipeline_events(store, *WINDOW)["event_name"].tolist() == [
        "pipeline.run",
        "pipeline.incident",
    ]
    assert read_events(store, *WINDOW, names=["business.signup"])["event_name"].tolist() == [
        "business.signup"
    ]

    raw = store.query(
        "SELECT toUnixTimestamp64Nano(Timestamp), TraceFlags, SeverityText, SeverityNumber, ServiceName, Body, "
        "ScopeName, EventName FROM otel_logs WHERE EventName != '' ORDER BY Timestamp LIMIT 1"
    ).result_rows
    assert raw == [(T0, 0, "INFO", 9, "reco-api", "b", semconv.INSTRUMENTATION_SCOPE, "business.purchase")]


def test_reader_accepts_datetimes_and_validates_arguments(store: Any) -> None:
    write_traces(store, [traces(prediction_span(0))])
    start = dt.datetime.fromtimestamp(T0 // 10**9, tz=dt.UTC)
    naive_end = dt.datetime.fromtimestamp(T0 // 10**9 + 1, tz=dt.UTC).replace(tzinfo=None)
    assert len(read_predictions(store, start, naive_end)["ts"]) == 1
    assert len(read_predictions(store, np.datetime64(T0, "ns"), np.datetime64(T0 + 1, "ns"))["ts"]) == 1
    with pytest.raises(ValueError, match="end"):
        read_predictions(store, T0, T0 - 1)
    with pytest.raises(ValueError, match="start"):
        read_predictions(store, "yesterday", T0)
    with pytest.raises(ValueError, match="names"):
        read_events(store, *WINDOW, names="business.purchase")


def test_empty_window_gives_empty_typed_columns(store: Any) -> None:
    cols = read_predictions(store, *WINDOW)
    assert all(len(v) == 0 for v in cols.values())
    assert cols["score"].dtype == np.float64 and cols["ts"].dtype == np.dtype("datetime64[ns]")


def test_missing_tables_give_store_error(db_client: Any) -> None:
    with pytest.raises(StoreError, match="schema apply"):
        write_traces(db_client, [traces(prediction_span(0))])
    with pytest.raises(StoreError, match="impact_predictions"):
        read_predictions(db_client, *WINDOW)


# --- metrics -----------------------------------------------------------------------------


def exemplar(value: float, *, with_ids: bool) -> m.Exemplar:
    ex = m.Exemplar(time_unix_nano=T0, as_double=value, filtered_attributes=[kv("f", 1)])
    if with_ids:
        ex.trace_id, ex.span_id = TRACE, SPAN
    return ex


def metrics_request() -> ExportMetricsServiceRequest:
    point_attrs = [kv("segment", "mobile")]
    gauge = m.Metric(
        name="g",
        description="a gauge",
        unit="1",
        gauge=m.Gauge(
            data_points=[
                m.NumberDataPoint(
                    time_unix_nano=T0,
                    start_time_unix_nano=T0 - 10**9,
                    as_double=0.5,
                    attributes=point_attrs,
                    exemplars=[exemplar(0.4, with_ids=True), exemplar(0.6, with_ids=False)],
                ),
                m.NumberDataPoint(time_unix_nano=T0, as_int=7, flags=1),
            ]
        ),
    )
    total = m.Metric(
        name="s",
        sum=m.Sum(
            aggregation_temporality=m.AGGREGATION_TEMPORALITY_CUMULATIVE,
            is_monotonic=True,
            data_points=[m.NumberDataPoint(time_unix_nano=T0, as_int=3)],
        ),
    )
    histogram = m.Metric(
        name="h",
        histogram=m.Histogram(
            aggregation_temporality=m.AGGREGATION_TEMPORALITY_DELTA,
            data_points=[
                m.HistogramDataPoint(
                    time_unix_nano=T0,
                    count=4,
                    sum=10.0,
                    bucket_counts=[1, 2, 1],
                    explicit_bounds=[1.0, 5.0],
                    min=0.5,
                    max=6.0,
                ),
                m.HistogramDataPoint(time_unix_nano=T0, count=0),  # no sum/min/max → 0
            ],
        ),
    )
    exp_histogram = m.Metric(
        name="e",
        exponential_histogram=m.ExponentialHistogram(
            aggregation_temporality=m.AGGREGATION_TEMPORALITY_DELTA,
            data_points=[
                m.ExponentialHistogramDataPoint(
                    time_unix_nano=T0,
                    count=5,
                    sum=9.0,
                    scale=2,
                    zero_count=1,
                    positive=m.ExponentialHistogramDataPoint.Buckets(offset=-1, bucket_counts=[1, 2]),
                    negative=m.ExponentialHistogramDataPoint.Buckets(offset=3, bucket_counts=[1]),
                    min=-2.0,
                    max=4.0,
                )
            ],
        ),
    )
    summary = m.Metric(
        name="q",
        summary=m.Summary(
            data_points=[
                m.SummaryDataPoint(
                    time_unix_nano=T0,
                    count=10,
                    sum=55.0,
                    quantile_values=[
                        m.SummaryDataPoint.ValueAtQuantile(quantile=0.5, value=5.0),
                        m.SummaryDataPoint.ValueAtQuantile(quantile=0.99, value=9.9),
                    ],
                )
            ]
        ),
    )
    scope = InstrumentationScope(
        name="meter", version="2", attributes=[kv("sa", "x")], dropped_attributes_count=3
    )
    return ExportMetricsServiceRequest(
        resource_metrics=[
            m.ResourceMetrics(
                resource=RESOURCE,
                schema_url="https://opentelemetry.io/schemas/1.26.0",
                scope_metrics=[
                    m.ScopeMetrics(
                        scope=scope,
                        schema_url="scope-url",
                        metrics=[gauge, total, histogram, exp_histogram, summary],
                    )
                ],
            )
        ]
    )


def test_all_five_metric_types_round_trip(store: Any) -> None:
    counts = write_metrics(store, [metrics_request()])
    assert counts == {
        semconv.TABLE_METRICS_GAUGE: 2,
        semconv.TABLE_METRICS_SUM: 1,
        semconv.TABLE_METRICS_HISTOGRAM: 2,
        semconv.TABLE_METRICS_EXP_HISTOGRAM: 1,
        semconv.TABLE_METRICS_SUMMARY: 1,
    }
    seconds = T0 // 10**9
    gauge = store.query(
        "SELECT ServiceName, MetricName, MetricDescription, MetricUnit, Attributes, toUnixTimestamp(StartTimeUnix), "
        "toUnixTimestamp(TimeUnix), Value, Flags, ScopeName, ScopeVersion, ScopeAttributes, ScopeDroppedAttrCount, "
        "ScopeSchemaUrl, ResourceSchemaUrl, Exemplars.FilteredAttributes, arrayMap(t -> toUnixTimestamp(t), "
        "Exemplars.TimeUnix), Exemplars.Value, Exemplars.SpanId, Exemplars.TraceId FROM otel_metrics_gauge ORDER BY Value"
    ).result_rows
    assert gauge[0] == (
        "reco-api", "g", "a gauge", "1", {"segment": "mobile"}, seconds - 1, seconds, 0.5, 0, "meter", "2",
        {"sa": "x"}, 3, "scope-url", "https://opentelemetry.io/schemas/1.26.0", [{"f": "1"}, {"f": "1"}],
        [seconds, seconds], [0.4, 0.6], [SPAN.hex(), "0" * 16], [TRACE.hex(), "0" * 32],
    )  # fmt: skip
    assert gauge[1][7:9] == (7.0, 1)
    assert store.query(
        "SELECT Value, AggregationTemporality, IsMonotonic FROM otel_metrics_sum"
    ).result_rows == [(3.0, 2, True)]
    assert store.query(
        "SELECT Count, Sum, BucketCounts, ExplicitBounds, Min, Max, AggregationTemporality FROM otel_metrics_histogram "
        "ORDER BY Count DESC"
    ).result_rows == [(4, 10.0, [1, 2, 1], [1.0, 5.0], 0.5, 6.0, 1), (0, 0.0, [], [], 0.0, 0.0, 1)]
    assert store.query(
        "SELECT Count, Sum, Scale, ZeroCount, PositiveOffset, PositiveBucketCounts, NegativeOffset, "
        "NegativeBucketCounts, Min, Max, AggregationTemporality FROM otel_metrics_exponential_histogram"
    ).result_rows == [(5, 9.0, 2, 1, -1, [1, 2], 3, [1], -2.0, 4.0, 1)]
    assert store.query(
        "SELECT Count, Sum, ValueAtQuantiles.Quantile, ValueAtQuantiles.Value, Flags FROM otel_metrics_summary"
    ).result_rows == [(10, 55.0, [0.5, 0.99], [5.0, 9.9], 0)]


def test_writers_accept_several_requests_per_call(store: Any) -> None:
    assert (
        write_traces(store, [traces(prediction_span(0)), traces(prediction_span(1), prediction_span(2))]) == 3
    )
    assert write_traces(store, []) == 0
    assert write_metrics(store, []) == {}
    assert len(read_predictions(store, *WINDOW)["ts"]) == 3


def test_writers_follow_older_collector_layouts(db_client: Any) -> None:
    """Logs without EventName get no EventName; DateTime64(9) metric times keep nanoseconds."""
    from otel_impact.store.schema import SchemaOptions, render_statement, schema_files
    from tests.store.test_store_schema import OLD_LOGS

    db_client.command(OLD_LOGS)
    gauge_file = next(f for f in schema_files() if f.name == semconv.TABLE_METRICS_GAUGE)
    ddl = render_statement(gauge_file.template, SchemaOptions(database=db_client.database))
    db_client.command(ddl.replace("TimeUnix DateTime", "TimeUnix DateTime64(9)"))
    assert write_logs(db_client, [logs(event("business.purchase", 0, [kv(semconv.USER_ID, "u1")]))]) == 1
    assert db_client.query(
        "SELECT toUnixTimestamp64Nano(Timestamp), LogAttributes FROM otel_logs"
    ).result_rows == [(T0, {semconv.USER_ID: "u1"})]
    gauge = m.Metric(
        name="g", gauge=m.Gauge(data_points=[m.NumberDataPoint(time_unix_nano=T0, as_double=1.0)])
    )
    request = ExportMetricsServiceRequest(
        resource_metrics=[m.ResourceMetrics(scope_metrics=[m.ScopeMetrics(metrics=[gauge])])]
    )
    assert write_metrics(db_client, [request]) == {semconv.TABLE_METRICS_GAUGE: 1}
    assert db_client.query("SELECT toUnixTimestamp64Nano(TimeUnix) FROM otel_metrics_gauge").result_rows == [
        (T0,)
    ]


def test_prepared_spans_insert_the_same_rows_as_write_traces(store: Any) -> None:
    import gc

    from otel_impact.store.writers import prepare_traces

    requests = [traces(*(prediction_span(i) for i in range(3))), traces(prediction_span(3))]
    gc_was_enabled = gc.isenabled()
    prepared = prepare_traces(requests)
    assert gc.isenabled() == gc_was_enabled  # the collector pause during conversion is undone
    assert (prepared.table, prepared.rows) == (semconv.TABLE_TRACES, 4)
    assert prepared.insert(store) == 4
    assert write_traces(store, requests) == 4
    rows = store.query(
        "SELECT * EXCEPT (ResourceAttributeItems, SpanAttributeItems) FROM otel_traces ORDER BY SpanId"
    ).result_rows
    assert len(rows) == 8
    assert rows[0::2] == rows[1::2]  # every span twice, identical column for column
