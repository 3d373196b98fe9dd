"""Acceptance: real OTLP exporters → embedded receiver → store writers → exporter-layout rows in chDB.

The receiver runs in-process on 127.0.0.1 port 0 over the ``store`` fixture (fresh database in
the session's chDB engine). Expected values come from the Collector exporter reference
(``shared/reference/clickhouseexporter-schema.md`` §6): lowercase hex ids, ``''`` for a missing
parent, Duration in ns, pdata kind/status names, attributes stringified (ints base 10, doubles
shortest round-trip, bools ``true``, arrays compact JSON).
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.resource.v1 import resource_pb2

from otel_impact import semconv
from otel_impact.receive import Receiver

T0 = 1_763_000_000_123_456_789  # ns; sub-microsecond digits survive only in DateTime64(9)
SERVICE = "recommender"


@pytest.fixture()
def rx(store: Any) -> Iterator[Receiver]:
    receiver = Receiver(store, http="127.0.0.1:0", grpc="127.0.0.1:0")
    receiver.start()
    yield receiver
    receiver.stop(drain=True)


def rows(client: Any, sql: str) -> list[dict[str, Any]]:
    result = client.query(sql)
    return [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]


def count(client: Any, table: str) -> int:
    return int(client.command(f"SELECT count() FROM {table}"))


# --- emitting through the SDK's real exporters -------------------------------------------------


def _exporters(rx: Receiver, transport: str) -> tuple[Any, Any, Any]:
    if transport == "http":
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        base = rx.endpoints.http
        return (
            OTLPSpanExporter(endpoint=f"{base}/v1/traces"),
            OTLPLogExporter(endpoint=f"{base}/v1/logs"),
            OTLPMetricExporter(endpoint=f"{base}/v1/metrics"),
        )
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GLog
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter as GMetric
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GSpan

    target = rx.endpoints.grpc
    return (
        GSpan(endpoint=target, insecure=True),
        GLog(endpoint=target, insecure=True),
        GMetric(endpoint=target, insecure=True),
    )


def emit_everything(rx: Receiver, transport: str) -> dict[str, Any]:
    """Spans (events, links), log events and four SDK metric kinds through the real exporters."""
    from opentelemetry import trace
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    span_exp, log_exp, metric_exp = _exporters(rx, transport)
    resource = Resource.create({semconv.SERVICE_NAME: SERVICE, "deployment.environment.name": "test"})

    tp = TracerProvider(resource=resource)
    tp.add_span_processor(SimpleSpanProcessor(span_exp))
    tracer = tp.get_tracer("otel_impact.tests", "1.2.3")
    root = tracer.start_span("checkout", kind=trace.SpanKind.SERVER, start_time=T0)
    ctx = trace.set_span_in_context(root)
    child = tracer.start_span(
        "predict churn",
        context=ctx,
        start_time=T0 + 1_000,
        attributes={
            semconv.ML_MODEL_NAME: "churn",
            "int": 42,
            "float": 0.25,
            "whole": 1.0,
            "bool": True,
            "list": ["a", "b"],
        },
        links=[trace.Link(root.get_span_context(), {"why": "caused-by"})],
    )
    child.add_event("scored", {"score": 0.9}, timestamp=T0 + 2_000)
    child.add_event("explained", timestamp=T0 + 3_000)
    child.set_status(trace.Status(trace.StatusCode.ERROR, "model timeout"))
    child.end(end_time=T0 + 251_000)
    root.end(end_time=T0 + 500_000)
    tp.shutdown()

    lp = LoggerProvider(resource=resource)
    lp.add_log_record_processor(SimpleLogRecordProcessor(log_exp))
    logger = lp.get_logger("otel_impact.tests.events")
    from opentelemetry._logs import SeverityNumber

    logger.emit(
        timestamp=T0 + 10,
        body="bought",
        severity_number=SeverityNumber.INFO,
        severity_text="INFO",
        event_name="business.purchase",
        attributes={semconv.BUSINESS_VALUE: 19.5, semconv.USER_ID: "u1"},
        context=ctx,
    )
    logger.emit(timestamp=T0 + 20, body={"k": 1, "a": "x"}, event_name="ml.outcome")
    lp.shutdown()

    reader = PeriodicExportingMetricReader(metric_exp, export_interval_millis=3_600_000)
    mp = MeterProvider(
        metric_readers=[reader],
        resource=resource,
        views=[View(instrument_name="exp.latency", aggregation=ExponentialBucketHistogramAggregation())],
    )
    meter = mp.get_meter("otel_impact.tests.metrics")
    meter.create_counter("ml.predictions").add(5, {"model": "churn"})
    meter.create_gauge("queue.depth").set(7.5)
    hist = meter.create_histogram("latency", explicit_bucket_boundaries_advisory=[1.0, 5.0, 10.0])
    for v in (0.5, 3.0, 3.0, 20.0):
        hist.record(v)
    exp = meter.create_histogram("exp.latency")
    for v in (1.0, 2.0, 4.0):
        exp.record(v)
    mp.shutdown()
    return {"root": root.get_span_context(), "child": child.get_span_context()}


def summary_request() -> metrics_service_pb2.ExportMetricsServiceRequest:
    """The SDK never produces summaries: one by hand (2 data points)."""
    points = [
        metrics_pb2.SummaryDataPoint(
            start_time_unix_nano=T0,
            time_unix_nano=T0 + i * 1_000_000_000,
            count=10 + i,
            sum=100.0 + i,
            quantile_values=[
                metrics_pb2.SummaryDataPoint.ValueAtQuantile(quantile=0.5, value=9.0),
                metrics_pb2.SummaryDataPoint.ValueAtQuantile(quantile=0.99, value=42.0),
            ],
            attributes=[common_pb2.KeyValue(key="route", value=common_pb2.AnyValue(string_value="/buy"))],
        )
        for i in range(2)
    ]
    metric = metrics_pb2.Metric(
        name="rpc.latency", unit="ms", summary=metrics_pb2.Summary(data_points=points)
    )
    return metrics_service_pb2.ExportMetricsServiceRequest(
        resource_metrics=[
            metrics_pb2.ResourceMetrics(
                resource=resource_pb2.Resource(
                    attributes=[
                        common_pb2.KeyValue(
                            key="service.name", value=common_pb2.AnyValue(string_value=SERVICE)
                        )
                    ]
                ),
                scope_metrics=[metrics_pb2.ScopeMetrics(metrics=[metric])],
            )
        ]
    )


def send_summary(rx: Receiver, transport: str) -> None:
    request = summary_request()
    if transport == "http":
        conn = http.client.HTTPConnection("127.0.0.1", rx.endpoints.http_port, timeout=10)
        conn.request(
            "POST",
            "/v1/metrics",
            body=request.SerializeToString(),
            headers={"Content-Type": "application/x-protobuf"},
        )
        assert conn.getresponse().status == 200
        conn.close()
        return
    assert rx.endpoints.grpc is not None
    with grpc.insecure_channel(rx.endpoints.grpc) as channel:
        metrics_service_pb2_grpc.MetricsServiceStub(channel).Export(request, timeout=10)


@pytest.mark.parametrize("transport", ["http", "grpc"])
def test_real_exporters_write_the_exporter_layout(rx: Receiver, store: Any, transport: str) -> None:
    ids = emit_everything(rx, transport)
    send_summary(rx, transport)
    assert rx.flush(10)

    # --- traces ---
    assert count(store, semconv.TABLE_TRACES) == 2
    spans = {
        r["SpanName"]: r
        for r in rows(
            store,
            "SELECT SpanName, TraceId, SpanId, ParentSpanId, SpanKind, ServiceName, ScopeName, ScopeVersion,"
            " toUnixTimestamp64Nano(Timestamp) AS ts, Duration, StatusCode, StatusMessage, SpanAttributes,"
            " ResourceAttributes, Events.Name AS en, arrayMap(t -> toUnixTimestamp64Nano(t), Events.Timestamp) AS et,"
            " Events.Attributes AS ea, Links.TraceId AS lt, Links.SpanId AS ls, Links.Attributes AS la"
            " FROM otel_traces",
        )
    }
    root, child = spans["checkout"], spans["predict churn"]
    trace_hex = format(ids["child"].trace_id, "032x")
    assert child["TraceId"] == root["TraceId"] == trace_hex
    assert child["SpanId"] == format(ids["child"].span_id, "016x")
    assert child["ParentSpanId"] == root["SpanId"] == format(ids["root"].span_id, "016x")
    assert root["ParentSpanId"] == ""
    assert (root["SpanKind"], child["SpanKind"]) == ("Server", "Internal")
    assert (child["StatusCode"], child["StatusMessage"], root["StatusCode"]) == (
        "Error",
        "model timeout",
        "Unset",
    )
    assert child["ts"] == T0 + 1_000
    assert child["Duration"] == 250_000
    assert root["Duration"] == 500_000
    assert child["ServiceName"] == SERVICE
    assert (child["ScopeName"], child["ScopeVersion"]) == ("otel_impact.tests", "1.2.3")
    assert child["ResourceAttributes"]["deployment.environment.name"] == "test"
    attrs = child["SpanAttributes"]
    assert attrs == {
        semconv.ML_MODEL_NAME: "churn",
        "int": "42",
        "float": "0.25",
        "whole": "1",
        "bool": "true",
        "list": '["a","b"]',
    }
    assert child["en"] == ["scored", "explained"]
    assert child["et"] == [T0 + 2_000, T0 + 3_000]
    assert child["ea"] == [{"score": "0.9"}, {}]
    assert child["lt"] == [trace_hex]
    assert child["ls"] == [root["SpanId"]]
    assert child["la"] == [{"why": "caused-by"}]

    # --- logs ---
    assert count(store, semconv.TABLE_LOGS) == 2
    logs = {
        r["EventName"]: r
        for r in rows(
            store,
            "SELECT EventName, toUnixTimestamp64Nano(Timestamp) AS ts, TraceId, SpanId, SeverityText,"
            " SeverityNumber, ServiceName, Body, LogAttributes, ScopeName FROM otel_logs",
        )
    }
    purchase = logs["business.purchase"]
    assert purchase["ts"] == T0 + 10
    assert (purchase["TraceId"], purchase["SpanId"]) == (trace_hex, root["SpanId"])
    assert (purchase["SeverityText"], purchase["SeverityNumber"]) == ("INFO", 9)
    assert purchase["Body"] == "bought"
    assert purchase["ServiceName"] == SERVICE
    assert purchase["LogAttributes"] == {semconv.BUSINESS_VALUE: "19.5", semconv.USER_ID: "u1"}
    assert purchase["ScopeName"] == "otel_impact.tests.events"
    outcome = logs["ml.outcome"]
    assert (outcome["TraceId"], outcome["SpanId"]) == ("", "")
    assert json.loads(outcome["Body"]) == {"a": "x", "k": 1}

    # --- metrics: exact row counts per table and the values ---
    assert count(store, semconv.TABLE_METRICS_SUM) == 1
    assert count(store, semconv.TABLE_METRICS_GAUGE) == 1
    assert count(store, semconv.TABLE_METRICS_HISTOGRAM) == 1
    assert count(store, semconv.TABLE_METRICS_EXP_HISTOGRAM) == 1
    assert count(store, semconv.TABLE_METRICS_SUMMARY) == 2
    (s,) = rows(
        store,
        "SELECT MetricName, Value, IsMonotonic, AggregationTemporality, Attributes, ServiceName FROM otel_metrics_sum",
    )
    assert s == {
        "MetricName": "ml.predictions",
        "Value": 5.0,
        "IsMonotonic": True,
        "AggregationTemporality": 2,
        "Attributes": {"model": "churn"},
        "ServiceName": SERVICE,
    }
    (g,) = rows(store, "SELECT MetricName, Value FROM otel_metrics_gauge")
    assert g == {"MetricName": "queue.depth", "Value": 7.5}
    (h,) = rows(
        store,
        "SELECT MetricName, Count, Sum, BucketCounts, ExplicitBounds, Min, Max FROM otel_metrics_histogram",
    )
    assert h == {
        "MetricName": "latency",
        "Count": 4,
        "Sum": 26.5,
        "BucketCounts": [1, 2, 0, 1],
        "ExplicitBounds": [1.0, 5.0, 10.0],
        "Min": 0.5,
        "Max": 20.0,
    }
    (e,) = rows(
        store,
        "SELECT MetricName, Count, Sum, ZeroCount, Min, Max, arraySum(PositiveBucketCounts) AS pos FROM otel_metrics_exponential_histogram",
    )
    assert e == {
        "MetricName": "exp.latency",
        "Count": 3,
        "Sum": 7.0,
        "ZeroCount": 0,
        "Min": 1.0,
        "Max": 4.0,
        "pos": 3,
    }
    summaries = rows(
        store,
        "SELECT Count, Sum, ValueAtQuantiles.Quantile AS q, ValueAtQuantiles.Value AS v, toUnixTimestamp(TimeUnix) AS t,"
        " Attributes, MetricUnit FROM otel_metrics_summary ORDER BY Count",
    )
    assert [(r["Count"], r["Sum"]) for r in summaries] == [(10, 100.0), (11, 101.0)]
    assert summaries[0]["q"] == [0.5, 0.99] and summaries[0]["v"] == [9.0, 42.0]
    assert [r["t"] for r in summaries] == [T0 // 10**9, T0 // 10**9 + 1]  # DateTime: whole seconds
    assert summaries[0]["Attributes"] == {"route": "/buy"} and summaries[0]["MetricUnit"] == "ms"
    metric_ts = int(store.command("SELECT toUnixTimestamp(max(TimeUnix)) FROM otel_metrics_sum"))
    assert abs(metric_ts - time.time()) < 600

    snap = rx.stats.snapshot()
    assert snap["accepted"] == {"traces": 2, "logs": 2, "metrics": 6}
    assert snap["failed"] == {"traces": 0, "logs": 0, "metrics": 0}


def test_hand_built_otlp_json(rx: Receiver, store: Any) -> None:
    trace_hex, span_hex, parent_hex = (
        "5B8EFFF798038103D269B633813FC60C".lower(),
        "eee19b7ec3c1b174",
        "0102030405060708",
    )
    traces = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "json-svc"}}]},
                "scopeSpans": [
                    {
                        "scope": {"name": "hand", "version": "0"},
                        "spans": [
                            {
                                "traceId": trace_hex,
                                "spanId": span_hex,
                                "parentSpanId": parent_hex,
                                "name": "predict churn",
                                "kind": 3,
                                "startTimeUnixNano": str(T0),
                                "endTimeUnixNano": str(T0 + 42),
                                "attributes": [
                                    {"key": "n", "value": {"intValue": "7"}},
                                    {"key": "d", "value": {"doubleValue": 1e-7}},
                                    {"key": "kv", "value": {"kvlistValue": {"values": [
                                        {"key": "b", "value": {"stringValue": "x"}},
                                        {"key": "a", "value": {"intValue": "1"}},
                                    ]}}},
                                ],
                                "events": [{"timeUnixNano": str(T0 + 1), "name": "e1"}],
                                "links": [{"traceId": trace_hex, "spanId": parent_hex, "traceState": "ot=th:8"}],
                                "status": {"code": 1},
                                "droppedFutureField": True,
                            }
                        ],
                    }
                ],
            }
        ]
    }  # fmt: skip
    logs = {
        "resourceLogs": [
            {
                "scopeLogs": [
                    {
                        "logRecords": [
                            {
                                "timeUnixNano": "0",
                                "observedTimeUnixNano": str(T0 + 5),
                                "traceId": trace_hex,
                                "spanId": span_hex,
                                "flags": 1,
                                "severityNumber": 17,
                                "eventName": "business.purchase",
                                "body": {"stringValue": "paid"},
                            }
                        ]
                    }
                ]
            }
        ]
    }
    gauge = {
        "resourceMetrics": [
            {
                "scopeMetrics": [
                    {
                        "metrics": [
                            {"name": "g", "gauge": {"dataPoints": [{"timeUnixNano": str(T0), "asInt": "3"}]}},
                            {
                                "name": "s",
                                "sum": {
                                    "aggregationTemporality": 1,
                                    "isMonotonic": True,
                                    "dataPoints": [{"timeUnixNano": str(T0), "asDouble": 2.5}],
                                },
                            },
                        ]
                    }
                ]
            }
        ]
    }
    for path, body in (("/v1/traces", traces), ("/v1/logs", logs), ("/v1/metrics", gauge)):
        conn = http.client.HTTPConnection("127.0.0.1", rx.endpoints.http_port, timeout=10)
        conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        assert resp.status == 200, resp.read()
        assert resp.getheader("Content-Type") == "application/json"
        assert json.loads(resp.read()) == {}
        conn.close()
    rx.flush(10)

    (span,) = rows(
        store,
        "SELECT TraceId, SpanId, ParentSpanId, SpanKind, StatusCode, Duration, ServiceName, SpanAttributes,"
        " Links.TraceState AS lts, Links.SpanId AS lsp, Events.Name AS en FROM otel_traces",
    )
    assert (span["TraceId"], span["SpanId"], span["ParentSpanId"]) == (trace_hex, span_hex, parent_hex)
    assert (span["SpanKind"], span["StatusCode"], span["Duration"]) == ("Client", "Ok", 42)
    assert span["ServiceName"] == "json-svc"
    assert span["SpanAttributes"] == {"n": "7", "d": "1e-7", "kv": '{"a":1,"b":"x"}'}
    assert (span["lts"], span["lsp"], span["en"]) == (["ot=th:8"], [parent_hex], ["e1"])
    (log,) = rows(
        store,
        "SELECT toUnixTimestamp64Nano(Timestamp) AS ts, TraceId, SpanId, TraceFlags, SeverityNumber, EventName, Body"
        " FROM otel_logs",
    )
    assert log == {
        "ts": T0 + 5,  # observed time when the record time is 0
        "TraceId": trace_hex,
        "SpanId": span_hex,
        "TraceFlags": 1,
        "SeverityNumber": 17,
        "EventName": "business.purchase",
        "Body": "paid",
    }
    assert rows(store, "SELECT MetricName, Value FROM otel_metrics_gauge") == [
        {"MetricName": "g", "Value": 3.0}
    ]
    assert rows(store, "SELECT Value, AggregationTemporality, IsMonotonic FROM otel_metrics_sum") == [
        {"Value": 2.5, "AggregationTemporality": 1, "IsMonotonic": True}
    ]
