"""The engine-side span conversion stores exactly the rows the Python conversion stores.

Trace requests reach the store encoded (``otel_impact.store.otlp_input``): chDB parses the
protobuf and ``sql/traces_from_otlp.sql`` converts it. The reference is the Python conversion
(``write_traces``: ``store/columns.py`` + ``store/encoding.py``, itself pinned to the exporter
reference elsewhere). Rows are compared as the engine prints them (``TSVRaw``: map key order,
float text and all), over seeded, varied requests: every attribute value type, empty values,
duplicate keys, NaN/±Inf, int64 extremes, unicode, zero and empty ids, sampled TraceState,
events, links, unknown enum numbers, an end before the start.
"""

from __future__ import annotations

import http.client
import random
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1 import common_pb2

from otel_impact import semconv
from otel_impact.receive import Receiver, Signal
from otel_impact.receive.ingest import TraceRequest, store_sink
from otel_impact.store import apply_schema
from otel_impact.store.otlp_input import count_spans, plain_values
from otel_impact.store.writers import engine_reads_encoded, write_encoded_traces, write_traces
from tests.conftest import _dsn as session_dsn

T0 = 1_763_000_000_123_456_789
ROWS = "SELECT * FROM otel_traces ORDER BY TraceId, SpanId, Timestamp, SpanName FORMAT TSVRaw"


@pytest.fixture()
def twin(store: Any, engine_client: Any) -> Iterator[Any]:
    """A second database with the schema, in the same engine as ``store``."""
    if not engine_reads_encoded(store):
        pytest.skip("the engine path needs embedded chDB")
    import clickhouse_connect

    name = "t_" + uuid.uuid4().hex[:12]
    apply_schema(engine_client, database=name)
    client = clickhouse_connect.get_client(dsn=session_dsn(), database=name)
    try:
        yield client
    finally:
        engine_client.command(f"DROP DATABASE IF EXISTS {name} SYNC")


def _value(rng: random.Random) -> common_pb2.AnyValue:
    kind = rng.randrange(9)
    if kind == 0:
        return common_pb2.AnyValue(
            string_value=rng.choice(["", "x", "ünï©ødé ✓ 𝄞", 'a\nb"c\\', "\u2028", "\t"])
        )
    if kind == 1:
        return common_pb2.AnyValue(int_value=rng.choice([0, -1, 42, 2**63 - 1, -(2**63)]))
    if kind == 2:
        doubles = [0.0, -0.0, 1.0, 1e21, 1e20, 1e-6, 1e-7, 0.1, 1.5e300, 5e-324, 123456789.125]
        doubles += [float("nan"), float("inf"), -float("inf"), rng.random(), rng.uniform(-1e25, 1e25)]
        return common_pb2.AnyValue(double_value=rng.choice(doubles))
    if kind == 3:
        return common_pb2.AnyValue(bool_value=rng.random() < 0.5)
    if kind == 4:
        return common_pb2.AnyValue(bytes_value=rng.randbytes(rng.randrange(6)))
    if kind == 5:
        return common_pb2.AnyValue()  # no member set: ''
    return common_pb2.AnyValue(string_value=f"s{rng.randrange(1000)}")


def _attributes(rng: random.Random, n: int) -> list[common_pb2.KeyValue]:
    keys = ["a", "b", "c", "ключ", semconv.SERVICE_NAME, "ml.model.name", ""]
    return [common_pb2.KeyValue(key=rng.choice(keys), value=_value(rng)) for _ in range(n)]


def varied_request(seed: int) -> ExportTraceServiceRequest:
    """Seeded request with plain (non-array, non-kvlist) values of every kind, in every place."""
    rng = random.Random(seed)
    request = ExportTraceServiceRequest()
    for _ in range(rng.randrange(1, 4)):
        rs = request.resource_spans.add()
        rs.resource.attributes.extend(_attributes(rng, rng.randrange(0, 6)))
        for _ in range(rng.randrange(0, 3)):
            ss = rs.scope_spans.add()
            ss.scope.name = rng.choice(["", "lib", "ü"])
            ss.scope.version = rng.choice(["", "1.0"])
            for _ in range(rng.randrange(0, 15)):
                start = T0 + rng.randrange(10**12)
                span = ss.spans.add(
                    trace_id=rng.randbytes(16),
                    span_id=rng.randbytes(8),
                    parent_span_id=rng.choice([b"", bytes(8), rng.randbytes(8)]),
                    trace_state=rng.choice(["", "ot=th:8", "vendor=x,ot=th:c;rv:0123456789abcd"]),
                    name=rng.choice(["predict churn", "ñ", ""]),
                    kind=rng.randrange(0, 8),  # 6, 7: unknown numbers
                    start_time_unix_nano=start,
                    end_time_unix_nano=start + rng.randrange(-1000, 10**9),  # may end before it starts
                )
                span.attributes.extend(_attributes(rng, rng.randrange(0, 9)))
                for _ in range(rng.randrange(0, 3)):
                    event = span.events.add(
                        time_unix_nano=start + rng.randrange(10**6), name=rng.choice(["ev", "é", ""])
                    )
                    event.attributes.extend(_attributes(rng, rng.randrange(0, 3)))
                for _ in range(rng.randrange(0, 3)):
                    link = span.links.add(
                        trace_id=rng.choice([b"", bytes(16), rng.randbytes(16)]),
                        span_id=rng.choice([b"", bytes(8), rng.randbytes(8)]),
                        trace_state=rng.choice(["", "ot=th:4"]),
                    )
                    link.attributes.extend(_attributes(rng, rng.randrange(0, 3)))
                span.status.code = rng.randrange(0, 4)  # 3: unknown
                span.status.message = rng.choice(["", "boom ✗"])
    return request


def post_traces(conn: http.client.HTTPConnection, request: Any) -> tuple[int, bytes]:
    """POST one protobuf trace request on ``conn``; the status and body of the response."""
    conn.request(
        "POST",
        "/v1/traces",
        body=request.SerializeToString(),
        headers={"Content-Type": "application/x-protobuf"},
    )
    response = conn.getresponse()
    return response.status, response.read()


def test_engine_conversion_stores_the_rows_of_the_python_conversion(store: Any, twin: Any) -> None:
    requests = [varied_request(seed) for seed in range(60)]
    bodies = [r.SerializeToString() for r in requests]
    assert all(plain_values(b) for b in bodies)
    spans = sum(len(ss.spans) for r in requests for rs in r.resource_spans for ss in rs.scope_spans)

    assert write_traces(store, requests) == spans
    assert write_encoded_traces(twin, bodies) == spans

    expected, got = store.raw_query(ROWS), twin.raw_query(ROWS)
    assert got.count(b"\n") == spans > 500
    for needle in (
        b"json: unsupported value: NaN",
        b"1e+21",
        b"-9223372036854775808",
        b"ot=th:8",
        b"Consumer",
    ):
        assert needle in expected  # the data exercises what it claims to
    assert got == expected


def test_duplicate_keys_keep_the_first_place_and_the_last_value(store: Any, twin: Any) -> None:
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    span = rs.scope_spans.add().spans.add(trace_id=b"\1" * 16, span_id=b"\2" * 8, start_time_unix_nano=T0)
    for key, text in [("a", "1"), ("b", "2"), ("a", "3"), ("c", "4"), ("b", "5")]:
        span.attributes.add(key=key).value.string_value = text

    write_traces(store, [request])
    write_encoded_traces(twin, [request.SerializeToString()])

    sql = "SELECT mapKeys(SpanAttributes), mapValues(SpanAttributes) FROM otel_traces"
    expected = [(["a", "b", "c"], ["3", "5", "4"])]
    assert store.query(sql).result_rows == twin.query(sql).result_rows == expected


def _with_complex(where: str) -> ExportTraceServiceRequest:
    request = varied_request(1)
    rs = request.resource_spans[0]
    ids = random.Random(where).randbytes(24)  # unique per case: rows sort the same in both stores
    span = rs.scope_spans.add().spans.add(trace_id=ids[:16], span_id=ids[16:], start_time_unix_nano=T0)
    owner = {
        "resource": rs.resource,
        "span": span,
        "event": span.events.add(time_unix_nano=T0),
        "link": span.links.add(trace_id=b"\3" * 16, span_id=b"\4" * 8),
    }[where.split(":")[0]]
    value = owner.attributes.add(key="k").value
    if where.endswith("kvlist"):
        value.kvlist_value.values.add(key="x").value.int_value = 1
    else:
        value.array_value.SetInParent()  # even an empty array must be seen
    return request


@pytest.mark.parametrize(
    "where", ["resource:array", "span:array", "span:kvlist", "event:array", "event:kvlist", "link:kvlist"]
)
def test_array_and_kvlist_values_are_left_to_the_python_conversion(where: str) -> None:
    assert plain_values(varied_request(1).SerializeToString())
    assert not plain_values(_with_complex(where).SerializeToString())


def test_unknown_fields_and_odd_encodings_are_left_to_the_python_conversion() -> None:
    body = varied_request(2).SerializeToString()
    assert plain_values(body)
    assert not plain_values(body + b"\xa8\x1f\x01")  # field 501 (varint), unknown to OTLP
    assert not plain_values(body + b"\x0a\x80\x00")  # a length written in two bytes (not canonical)
    assert not plain_values(b"\x0a\x05ab")  # truncated
    assert count_spans([body, body]) == 2 * sum(
        len(ss.spans) for rs in varied_request(2).resource_spans for ss in rs.scope_spans
    )


def test_receiver_stores_mixed_requests_as_the_python_conversion_does(store: Any, twin: Any) -> None:
    """Over OTLP/HTTP protobuf: plain requests take the engine path, requests with array or
    kvlist values the Python one (queued side by side), and together they store what writing
    every request with the Python conversion stores."""
    requests = [varied_request(seed) for seed in range(100, 112)]
    requests += [_with_complex(where) for where in ("resource:array", "span:kvlist", "link:kvlist")]
    write_traces(twin, requests)

    sink = store_sink(store, engine_min_spans=1)  # every batch is worth the engine path here
    with Receiver(sink=sink, http="127.0.0.1:0", grpc=None) as rx:
        assert rx.endpoints.http_port is not None
        conn = http.client.HTTPConnection("127.0.0.1", rx.endpoints.http_port, timeout=30)
        for request in requests:
            status, _ = post_traces(conn, request)
            assert status == 200  # acknowledged: written
        conn.close()

    assert store.raw_query(ROWS) == twin.raw_query(ROWS)
    complex_spans = sum(
        len(ss.spans) for r in requests[-3:] for rs in r.resource_spans for ss in rs.scope_spans
    )
    assert (
        sink.spans_converted
        == {  # type: ignore[attr-defined]
            "engine": count_spans([r.SerializeToString() for r in requests[:-3]]),
            "python": complex_spans,
        }
    )


def _batch(spans: int) -> list[TraceRequest]:
    request = varied_request(3)
    del request.resource_spans[1:]
    ss = request.resource_spans[0].scope_spans
    del ss[:]
    scope = ss.add()
    for i in range(spans):
        scope.spans.add(trace_id=i.to_bytes(16, "big"), span_id=b"\1" * 8, start_time_unix_nano=T0 + i)
    return [TraceRequest(request, spans, request.SerializeToString())]


def test_small_batches_and_batches_with_array_values_are_converted_in_python(store: Any) -> None:
    sink = store_sink(store, engine_min_spans=100)
    assert sink(Signal.TRACES, _batch(99)) == 99
    assert sink.spans_converted == {"engine": 0, "python": 99}  # type: ignore[attr-defined]
    assert sink(Signal.TRACES, _batch(100)) == 100
    assert sink.spans_converted == {"engine": 100, "python": 99}  # type: ignore[attr-defined]
    odd = _with_complex("span:array")
    n = count_spans([odd.SerializeToString()])
    assert sink(Signal.TRACES, [*_batch(100), TraceRequest(odd, n)]) == 100 + n
    assert sink.spans_converted == {"engine": 100, "python": 199 + n}  # type: ignore[attr-defined]
    assert int(store.command("SELECT count() FROM otel_traces")) == 299 + n


def test_store_sink_arguments_are_checked(store: Any) -> None:
    with pytest.raises(ValueError, match="engine_min_spans"):
        store_sink(store, engine_min_spans=0)


def test_a_request_the_receiver_trims_is_re_encoded_before_the_engine_reads_it(store: Any) -> None:
    """Admission removes a span with a 3-byte trace id; the engine must see the trimmed request,
    not the body as received."""
    request = varied_request(7)
    target = next(ss for rs in request.resource_spans for ss in rs.scope_spans if len(ss.spans))
    target.spans.add(trace_id=b"bad", span_id=b"\5" * 8, start_time_unix_nano=T0, name="refused")
    total = sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)

    sink = store_sink(store, engine_min_spans=1)
    with Receiver(sink=sink, http="127.0.0.1:0", grpc=None) as rx:
        assert rx.endpoints.http_port is not None
        conn = http.client.HTTPConnection("127.0.0.1", rx.endpoints.http_port, timeout=30)
        status, body = post_traces(conn, request)
        conn.close()

    assert status == 200
    assert b"1 item(s) rejected" in body
    assert int(store.command("SELECT count() FROM otel_traces")) == total - 1
    assert int(store.command("SELECT count() FROM otel_traces WHERE SpanName = 'refused'")) == 0
    assert sink.spans_converted == {"engine": total - 1, "python": 0}  # type: ignore[attr-defined]


def test_grpc_requests_take_the_engine_path_too(store: Any, twin: Any) -> None:
    """gRPC hands over decoded messages only: they are re-encoded for the engine."""
    import grpc
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

    requests = [varied_request(seed) for seed in range(200, 206)]
    write_traces(twin, requests)
    sink = store_sink(store, engine_min_spans=1)
    with Receiver(sink=sink, http=None, grpc="127.0.0.1:0") as rx:
        assert rx.endpoints.grpc is not None
        with grpc.insecure_channel(rx.endpoints.grpc) as channel:
            stub = trace_service_pb2_grpc.TraceServiceStub(channel)
            for request in requests:
                stub.Export(request, timeout=30)

    assert store.raw_query(ROWS) == twin.raw_query(ROWS)
    assert sink.spans_converted["engine"] == count_spans([r.SerializeToString() for r in requests]) > 0  # type: ignore[attr-defined]
