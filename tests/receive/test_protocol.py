"""OTLP wire rules: decompression caps, OTLP/JSON hex ids, item counting, partial success."""

from __future__ import annotations

import contextlib
import gzip
import json
import zlib
from dataclasses import astuple

import pytest
from google.protobuf import json_format
from google.rpc import status_pb2
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from otel_impact.receive import protocol
from otel_impact.receive.admission import admit
from otel_impact.receive.protocol import BadRequest, Outcome, Signal

TRACE = "5b8efff798038103d269b633813fc60c"
SPAN = "eee19b7ec3c1b174"


def _json_traces(**span_overrides: object) -> dict:
    span = {
        "traceId": TRACE,
        "spanId": SPAN,
        "parentSpanId": "",
        "name": "predict churn",
        "kind": 2,
        "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": "1700000000250000000",
        "links": [{"traceId": TRACE, "spanId": "0102030405060708"}],
        "status": {"code": 2, "message": "boom"},
        "someFutureField": {"x": 1},
    }
    span.update(span_overrides)
    return {"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": [span]}], "unknown": 1}]}


def test_media_type() -> None:
    assert protocol.media_type("application/json; charset=utf-8") == protocol.JSON
    assert protocol.media_type("Application/X-Protobuf") == protocol.PROTOBUF
    assert protocol.media_type("text/plain") is None
    assert protocol.media_type(None) is None


def test_decompress_gzip_and_both_deflate_flavours() -> None:
    data = b"x" * 10_000
    assert protocol.decompress(gzip.compress(data), "gzip") == data
    assert protocol.decompress(zlib.compress(data), "deflate") == data
    raw = zlib.compressobj(wbits=-15)
    assert protocol.decompress(raw.compress(data) + raw.flush(), "deflate") == data
    assert protocol.decompress(data, None) == data
    # concatenated gzip members are one body
    assert protocol.decompress(gzip.compress(b"ab") + gzip.compress(b"cd"), "gzip") == b"abcd"


def test_gzip_bomb_is_stopped_at_the_limit() -> None:
    bomb = gzip.compress(b"\0" * (8 * 1024 * 1024))  # ~8 KiB compressed
    assert len(bomb) < 64 * 1024
    with pytest.raises(BadRequest) as err:
        protocol.decompress(bomb, "gzip", limit=1024 * 1024)
    assert err.value.http_status == 413


def test_identity_body_over_limit_and_bad_encodings() -> None:
    with pytest.raises(BadRequest) as err:
        protocol.decompress(b"x" * 11, "identity", limit=10)
    assert err.value.http_status == 413
    with pytest.raises(BadRequest) as err:
        protocol.decompress(b"x", "br")
    assert err.value.http_status == 415
    with pytest.raises(BadRequest) as err:
        protocol.decompress(b"not gzip at all", "gzip")
    assert err.value.http_status == 400
    with pytest.raises(BadRequest) as err:
        protocol.decompress(gzip.compress(b"y" * 1000)[:-12], "gzip")
    assert err.value.http_status == 400


def test_json_hex_ids_become_bytes_and_unknown_fields_are_ignored() -> None:
    body = json.dumps(_json_traces()).encode()
    request = protocol.parse_body(Signal.TRACES, body, protocol.JSON)
    span = request.resource_spans[0].scope_spans[0].spans[0]
    assert span.trace_id.hex() == TRACE
    assert span.span_id.hex() == SPAN
    assert span.parent_span_id == b""
    assert span.links[0].span_id.hex() == "0102030405060708"
    assert span.kind == 2  # integer enum accepted
    assert span.status.code == 2
    assert span.end_time_unix_nano - span.start_time_unix_nano == 250_000_000


def test_json_log_and_exemplar_ids() -> None:
    logs = {
        "resourceLogs": [
            {
                "scopeLogs": [
                    {"logRecords": [{"traceId": TRACE, "spanId": SPAN, "eventName": "business.purchase"}]}
                ]
            }
        ]
    }
    request = protocol.parse_body(Signal.LOGS, json.dumps(logs).encode(), protocol.JSON)
    record = request.resource_logs[0].scope_logs[0].log_records[0]
    assert (record.trace_id.hex(), record.span_id.hex(), record.event_name) == (
        TRACE,
        SPAN,
        "business.purchase",
    )
    metrics = {
        "resourceMetrics": [
            {
                "scopeMetrics": [
                    {
                        "metrics": [
                            {
                                "name": "g",
                                "gauge": {
                                    "dataPoints": [
                                        {"asDouble": 1.5, "exemplars": [{"traceId": TRACE, "spanId": SPAN}]}
                                    ]
                                },
                            }
                        ]
                    }
                ]
            }
        ]
    }
    request = protocol.parse_body(Signal.METRICS, json.dumps(metrics).encode(), protocol.JSON)
    point = request.resource_metrics[0].scope_metrics[0].metrics[0].gauge.data_points[0]
    assert point.exemplars[0].trace_id.hex() == TRACE
    assert protocol.count_items(Signal.METRICS, request) == 1


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]", b'{"resourceSpans": 5}', b'{"a":' + b"[" * 5000 + b"]" * 5000 + b"}"],
    ids=["syntax", "array", "wrong-type", "deep"],
)
def test_invalid_json_is_bad_request(body: bytes) -> None:
    with pytest.raises(BadRequest) as err:
        protocol.parse_body(Signal.TRACES, body, protocol.JSON)
    assert err.value.http_status == 400


def test_truncated_protobuf_is_bad_request() -> None:
    request = protocol.parse_body(Signal.TRACES, json.dumps(_json_traces()).encode(), protocol.JSON)
    wire = request.SerializeToString()
    with pytest.raises(BadRequest):
        protocol.parse_body(Signal.TRACES, wire[:-7], protocol.PROTOBUF)
    with pytest.raises(BadRequest) as err:
        protocol.parse_body(Signal.TRACES, wire, "text/plain")
    assert err.value.http_status == 415


def test_admission_removes_only_bad_spans() -> None:
    tree = _json_traces()
    spans = tree["resourceSpans"][0]["scopeSpans"][0]["spans"]
    spans.append(dict(spans[0], traceId="abcd"))  # 2-byte trace id
    spans.append(dict(spans[0], spanId="00" * 8))  # all-zero: stored as '' like the Collector
    request = protocol.parse_body(Signal.TRACES, json.dumps(tree).encode(), protocol.JSON)
    assert protocol.count_items(Signal.TRACES, request) == 3
    rejected, message = astuple(admit(Signal.TRACES, request))[:2]
    assert rejected == 1
    assert "16-byte" in message
    assert protocol.count_items(Signal.TRACES, request) == 2


def test_admission_logs_allows_missing_ids() -> None:
    logs = {"resourceLogs": [{"scopeLogs": [{"logRecords": [{}, {"traceId": "ab"}, {"spanId": SPAN}]}]}]}
    request = protocol.parse_body(Signal.LOGS, json.dumps(logs).encode(), protocol.JSON)
    assert admit(Signal.LOGS, request).rejected == 1
    assert protocol.count_items(Signal.LOGS, request) == 2


def test_partial_success_response_in_both_encodings() -> None:
    response = protocol.export_response(Signal.TRACES, Outcome(3, "3 bad"))
    decoded = trace_service_pb2.ExportTraceServiceResponse.FromString(
        protocol.encode(response, protocol.PROTOBUF)
    )
    assert decoded.partial_success.rejected_spans == 3
    as_json = json.loads(protocol.encode(response, protocol.JSON))
    assert as_json == {"partialSuccess": {"rejectedSpans": "3", "errorMessage": "3 bad"}}
    assert protocol.encode(protocol.export_response(Signal.LOGS, Outcome()), protocol.PROTOBUF) == b""
    assert protocol.encode(protocol.export_response(Signal.LOGS, Outcome()), protocol.JSON) == b"{}"


def test_status_body() -> None:
    status = status_pb2.Status.FromString(protocol.status_body(3, "bad", protocol.PROTOBUF))
    assert (status.code, status.message) == (3, "bad")
    parsed = json_format.Parse(protocol.status_body(3, "bad", protocol.JSON), status_pb2.Status())
    assert parsed.message == "bad"


@settings(max_examples=150, deadline=None)
@given(body=st.binary(max_size=512), signal=st.sampled_from(list(Signal)))
def test_arbitrary_protobuf_bytes_never_escape_as_other_errors(body: bytes, signal: Signal) -> None:
    try:
        request = protocol.parse_body(signal, body, protocol.PROTOBUF)
    except BadRequest:
        return
    admit(signal, request)
    assert protocol.count_items(signal, request) >= 0


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                ["resourceSpans", "scopeSpans", "spans", "traceId", "spanId", "name", "kind", "x"]
            ),
            children,
            max_size=3,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(tree=_json_values)
def test_arbitrary_json_never_escapes_as_other_errors(tree: object) -> None:
    with contextlib.suppress(BadRequest):
        protocol.parse_body(Signal.TRACES, json.dumps(tree).encode(), protocol.JSON)
