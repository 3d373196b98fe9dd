"""Property test of the receiver (issue 16): any decodable request, of any signal, in protobuf or
OTLP/JSON, with times in or far out of the store's range and ids of any length, is answered 200
(never 5xx); exactly the items the store cannot hold are rejected through ``partial_success``;
every other item is stored.

The expectation is computed from how each item was generated (its validity is drawn first),
independently of the receiver's admission code.
"""

from __future__ import annotations

import base64
import http.client
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from google.protobuf import json_format
from google.protobuf.message import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.logs.v1 import logs_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from otel_impact.receive import Receiver
from tests.conftest import _dsn

T0 = 1_763_000_000_000_000_000
DAY = 86_400 * 10**9
ok_time = st.integers(T0, T0 + 3 * DAY)
late_ns = st.sampled_from([2**63, 2**63 + 12345, 2**64 - 1])  # beyond DateTime64(9)
late_metric_ns = st.sampled_from([2**32 * 10**9, 5 * 10**18, 2**64 - 1])  # beyond DateTime


@dataclass
class Item:
    valid: bool
    build: Any  # callable(marker) -> protobuf item


@st.composite
def span_item(draw: st.DrawFn) -> Item:
    flaw = draw(st.sampled_from(["none", "none", "late", "late_event", "short_id"]))
    start = draw(late_ns) if flaw == "late" else draw(ok_time)
    event_time = draw(late_ns) if flaw == "late_event" else draw(ok_time)
    with_event = flaw == "late_event" or draw(st.booleans())
    trace_id = b"\x07" * draw(st.sampled_from([1, 8, 15])) if flaw == "short_id" else b"\x07" * 16
    span_id = draw(st.binary(min_size=8, max_size=8).filter(any))

    def build(marker: str) -> trace_pb2.Span:
        span = trace_pb2.Span(
            trace_id=trace_id,
            span_id=span_id,
            name=marker,
            start_time_unix_nano=start,
            end_time_unix_nano=start,
        )
        if with_event:
            span.events.add(time_unix_nano=event_time, name="e")
        return span

    return Item(flaw == "none", build)


@st.composite
def log_item(draw: st.DrawFn) -> Item:
    flaw = draw(st.sampled_from(["none", "none", "late", "late_observed", "long_id"]))
    time_ns = draw(late_ns) if flaw == "late" else draw(st.one_of(st.just(0), ok_time))
    if flaw == "late_observed":
        time_ns = 0
    observed = draw(late_ns) if flaw == "late_observed" else draw(ok_time)
    span_id = b"\x03" * (9 if flaw == "long_id" else draw(st.sampled_from([0, 8])))

    def build(marker: str) -> logs_pb2.LogRecord:
        return logs_pb2.LogRecord(
            time_unix_nano=time_ns,
            observed_time_unix_nano=observed,
            span_id=span_id,
            body={"string_value": marker},
        )

    return Item(flaw == "none", build)


@st.composite
def point_item(draw: st.DrawFn) -> Item:
    flaw = draw(st.sampled_from(["none", "none", "late", "late_start", "late_exemplar"]))
    kind = draw(st.sampled_from(["gauge", "sum", "histogram"]))
    time_ns = draw(late_metric_ns) if flaw == "late" else draw(ok_time)
    start = draw(late_metric_ns) if flaw == "late_start" else draw(st.one_of(st.just(0), ok_time))
    exemplar = draw(late_metric_ns) if flaw == "late_exemplar" else draw(ok_time)

    def build(marker: str) -> metrics_pb2.Metric:
        metric = metrics_pb2.Metric(name=marker)
        point: Any
        if kind == "histogram":
            point = metric.histogram.data_points.add(count=1, sum=2.0)
        else:
            point = getattr(metric, kind).data_points.add(as_double=1.5)
        point.time_unix_nano = time_ns
        point.start_time_unix_nano = start
        point.exemplars.add(time_unix_nano=exemplar, as_double=1.0)
        return metric

    return Item(flaw == "none", build)


SIGNALS = {
    "traces": (span_item(), trace_service_pb2.ExportTraceServiceResponse, "rejectedSpans"),
    "logs": (log_item(), logs_service_pb2.ExportLogsServiceResponse, "rejectedLogRecords"),
    "metrics": (point_item(), metrics_service_pb2.ExportMetricsServiceResponse, "rejectedDataPoints"),
}


def request_of(signal: str, items: list[Item], marker: str) -> Message:
    built = [item.build(marker) for item in items]
    if signal == "traces":
        return trace_service_pb2.ExportTraceServiceRequest(
            resource_spans=[trace_pb2.ResourceSpans(scope_spans=[trace_pb2.ScopeSpans(spans=built)])]
        )
    if signal == "logs":
        return logs_service_pb2.ExportLogsServiceRequest(
            resource_logs=[logs_pb2.ResourceLogs(scope_logs=[logs_pb2.ScopeLogs(log_records=built)])]
        )
    return metrics_service_pb2.ExportMetricsServiceRequest(
        resource_metrics=[
            metrics_pb2.ResourceMetrics(scope_metrics=[metrics_pb2.ScopeMetrics(metrics=built)])
        ]
    )


def otlp_json(message: Message) -> bytes:
    """OTLP/JSON: protobuf JSON with ids as hex instead of base64."""

    def hexify(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("traceId", "spanId", "parentSpanId") and isinstance(value, str):
                    node[key] = base64.b64decode(value).hex()
                else:
                    hexify(value)
        elif isinstance(node, list):
            for value in node:
                hexify(value)

    tree = json_format.MessageToDict(message)
    hexify(tree)
    return json.dumps(tree).encode()


def stored(client: Any, signal: str, marker: str) -> int:
    if signal == "traces":
        sql = "SELECT count() FROM otel_traces WHERE SpanName = {m:String}"
    elif signal == "logs":
        sql = "SELECT count() FROM otel_logs WHERE Body = {m:String}"
    else:
        sql = (
            "SELECT (SELECT count() FROM otel_metrics_gauge WHERE MetricName = {m:String})"
            " + (SELECT count() FROM otel_metrics_sum WHERE MetricName = {m:String})"
            " + (SELECT count() FROM otel_metrics_histogram WHERE MetricName = {m:String})"
        )
    return int(client.command(sql, parameters={"m": marker}))


@pytest.fixture(scope="module")
def fuzz_store(engine_client: Any) -> Iterator[Any]:
    import clickhouse_connect

    from otel_impact.store import apply_schema

    name = "t_fuzz_" + uuid.uuid4().hex[:8]
    engine_client.command(f"CREATE DATABASE {name}")
    client = clickhouse_connect.get_client(dsn=_dsn(), database=name)
    apply_schema(client, database=name)
    yield client
    engine_client.command(f"DROP DATABASE IF EXISTS {name} SYNC")


@pytest.fixture(scope="module")
def fuzz_rx(fuzz_store: Any) -> Iterator[Receiver]:
    receiver = Receiver(fuzz_store, http="127.0.0.1:0", grpc=None)
    receiver.start()
    yield receiver
    receiver.stop(drain=True)


@pytest.mark.parametrize("signal", list(SIGNALS))
def test_receiver_property_no_5xx_rejects_exactly_the_unstorable_stores_the_rest(
    fuzz_rx: Receiver, fuzz_store: Any, signal: str
) -> None:
    strategy, response_type, rejected_key = SIGNALS[signal]
    port = fuzz_rx.endpoints.http_port
    assert port is not None

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(items=st.lists(strategy, min_size=0, max_size=6), as_json=st.booleans())
    def check(items: list[Item], as_json: bool) -> None:
        marker = f"fuzz-{uuid.uuid4().hex}"
        message = request_of(signal, items, marker)
        body = otlp_json(message) if as_json else message.SerializeToString()
        ctype = "application/json" if as_json else "application/x-protobuf"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("POST", f"/v1/{signal}", body=body, headers={"Content-Type": ctype})
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        assert response.status == 200, data[:300]
        answer = (
            json_format.MessageToDict(response_type.FromString(data)) if not as_json else json.loads(data)
        )
        expected_rejected = sum(not item.valid for item in items)
        assert int(answer.get("partialSuccess", {}).get(rejected_key, 0)) == expected_rejected
        assert stored(fuzz_store, signal, marker) == len(items) - expected_rejected

    check()
