"""Hostile and broken input at the receiver: one bad item never blocks the others (issue 16).

Each test is named after the defect row it pins (#1 poisoning, #5 bounds, #8 HTTP/gRPC edge
cases, #9 responses and shutdown, #10 unauthenticated exposure).
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import grpc
import pytest
from click.testing import CliRunner
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.logs.v1 import logs_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from otel_impact.cli.collect import exposed_without_token
from otel_impact.cli.main import cli
from otel_impact.receive import BatchWriter, Receiver, Signal, Unstorable
from otel_impact.receive.ingest import store_sink

T0 = 1_763_000_000_000_000_000  # 2025-11-13, ns
DAY = 86_400 * 10**9
TOO_LATE = 2**64 - 1  # a valid fixed64, beyond DateTime64(9)
AFTER_2106 = (2**32 + 5) * 10**9  # beyond the metric tables' DateTime


def spans_request(name: str, starts: Sequence[int]) -> trace_service_pb2.ExportTraceServiceRequest:
    spans = [
        trace_pb2.Span(
            trace_id=b"\x01" * 16,
            span_id=(i + 1).to_bytes(8, "big"),
            name=name,
            start_time_unix_nano=t,
            end_time_unix_nano=t + 1000 if t < 2**63 else t,
        )
        for i, t in enumerate(starts)
    ]
    return trace_service_pb2.ExportTraceServiceRequest(
        resource_spans=[trace_pb2.ResourceSpans(scope_spans=[trace_pb2.ScopeSpans(spans=spans)])]
    )


def logs_request(body: str, times: Sequence[int]) -> logs_service_pb2.ExportLogsServiceRequest:
    records = [logs_pb2.LogRecord(time_unix_nano=t, body={"string_value": body}) for t in times]
    return logs_service_pb2.ExportLogsServiceRequest(
        resource_logs=[logs_pb2.ResourceLogs(scope_logs=[logs_pb2.ScopeLogs(log_records=records)])]
    )


def gauge_request(name: str, times: Sequence[int]) -> metrics_service_pb2.ExportMetricsServiceRequest:
    points = [metrics_pb2.NumberDataPoint(time_unix_nano=t, as_double=1.0) for t in times]
    metric = metrics_pb2.Metric(name=name, gauge=metrics_pb2.Gauge(data_points=points))
    return metrics_service_pb2.ExportMetricsServiceRequest(
        resource_metrics=[
            metrics_pb2.ResourceMetrics(scope_metrics=[metrics_pb2.ScopeMetrics(metrics=[metric])])
        ]
    )


def post(base: str, path: str, body: bytes, ctype: str = "application/x-protobuf") -> tuple[int, bytes]:
    host, port = base.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": ctype})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def count(client: Any, sql: str) -> int:
    return int(client.command(sql))


@pytest.fixture()
def rx(store: Any) -> Iterator[Receiver]:
    # a long linger so that concurrent requests share batches, as they do under load
    receiver = Receiver(store, http="127.0.0.1:0", grpc=None, flush_interval=0.05)
    receiver.start()
    yield receiver
    receiver.stop(drain=True)


# --- #1: one unstorable item poisons a whole batch ------------------------------------------


def test_defect1_poison_item_does_not_block_batch(rx: Receiver, store: Any) -> None:
    """A client sending unstorable times (every signal) and 101 days per request while four
    innocent clients send: every innocent request is acknowledged and stored, the poisoning
    requests get 200 with ``partial_success`` and their storable items are stored too."""
    base = rx.endpoints.http
    assert base is not None
    innocent_statuses: list[int] = []
    poison_answers: list[tuple[str, int, bytes]] = []
    stop = threading.Event()

    def innocent(k: int) -> None:
        for i in range(10):
            body = spans_request(f"innocent-{k}", [T0 + i * 1000 + j for j in range(20)]).SerializeToString()
            status, data = post(base, "/v1/traces", body)
            assert not trace_service_pb2.ExportTraceServiceResponse.FromString(data).HasField(
                "partial_success"
            )
            innocent_statuses.append(status)

    poisons = [
        ("/v1/traces", spans_request("poison", [TOO_LATE, T0])),
        ("/v1/traces", spans_request("poison", [T0 + d * DAY for d in range(101)])),
        ("/v1/logs", logs_request("poison", [2**63, T0])),
        ("/v1/metrics", gauge_request("poison", [AFTER_2106, T0])),
    ]

    def poisoner() -> None:
        while not stop.is_set():
            for path, request in poisons:
                status, data = post(base, path, request.SerializeToString())
                poison_answers.append((path, status, data))

    threads = [threading.Thread(target=innocent, args=(k,)) for k in range(4)]
    bad = threading.Thread(target=poisoner)
    bad.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    stop.set()
    bad.join(60)

    assert innocent_statuses == [200] * 40
    assert count(store, "SELECT count() FROM otel_traces WHERE SpanName LIKE 'innocent-%'") == 40 * 20
    assert poison_answers and {status for _, status, _ in poison_answers} == {200}
    rounds = len(poison_answers) // len(poisons)
    expected = {"/v1/traces": 1 + 1, "/v1/logs": 1, "/v1/metrics": 1}  # rejected per round, per path
    for path, total in expected.items():
        seen = 0
        for p, _, data in poison_answers:
            if p != path:
                continue
            response = {
                "/v1/traces": trace_service_pb2.ExportTraceServiceResponse,
                "/v1/logs": logs_service_pb2.ExportLogsServiceResponse,
                "/v1/metrics": metrics_service_pb2.ExportMetricsServiceResponse,
            }[path].FromString(data)
            partial = response.partial_success
            seen += partial.ListFields()[0][1] if partial.ListFields() else 0
        assert seen >= total * rounds, path
    assert count(store, "SELECT count() FROM otel_logs WHERE Body = 'poison'") >= rounds
    assert count(store, "SELECT count() FROM otel_metrics_gauge WHERE MetricName = 'poison'") >= rounds
    # the 101-day request keeps its first 100 days; the 2**64-1 span is not stored
    assert count(store, "SELECT count() FROM otel_traces WHERE SpanName = 'poison'") >= rounds * 101


def test_defect1_store_refusal_is_bisected_to_the_offending_request(store: Any) -> None:
    """A request admission let through but the store refuses fails alone (Unstorable: the
    client must not resend it); the other requests of its batch are written."""
    gate = threading.Event()
    sink = store_sink(store)

    class Gated:
        classify = staticmethod(sink.classify)  # type: ignore[attr-defined]

        def __call__(self, signal: Signal, requests: Sequence[Any]) -> int:
            gate.wait(10)
            return sink(signal, requests)

    writer = BatchWriter(Gated(), flush_interval=0, retries=3, backoff_initial=0.01)
    writer.start()
    tickets = [writer.submit(Signal.TRACES, spans_request(f"ok-{i}", [T0 + i]), 1) for i in range(7)]
    poison = writer.submit(Signal.TRACES, spans_request("unstorable", [TOO_LATE]), 1)  # not admitted
    tickets += [writer.submit(Signal.TRACES, spans_request(f"ok-{i}", [T0 + i]), 1) for i in range(7, 12)]
    gate.set()
    for t in tickets:
        t.wait(30)
    with pytest.raises(Unstorable, match="store cannot hold"):
        poison.wait(30)
    writer.close()
    assert count(store, "SELECT count() FROM otel_traces WHERE SpanName LIKE 'ok-%'") == 12
    assert count(store, "SELECT count() FROM otel_traces WHERE SpanName = 'unstorable'") == 0


# --- #5: connection count ----------------------------------------------------------------


def test_defect5_connection_count_is_bounded() -> None:
    from tests.receive.test_http_transport import StubSink

    sink = StubSink()
    receiver = Receiver(sink=sink, http="127.0.0.1:0", grpc=None, max_connections=3)
    endpoints = receiver.start()
    assert endpoints.http_port is not None
    try:
        held = [socket.create_connection(("127.0.0.1", endpoints.http_port), timeout=10) for _ in range(3)]
        for s in held:  # each is served, so each has its own thread
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert s.recv(4096).startswith(b"HTTP/1.1 200")
        with socket.create_connection(("127.0.0.1", endpoints.http_port), timeout=10) as extra:
            extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            try:
                answer = extra.recv(4096)
            except ConnectionResetError:
                answer = b""
            assert answer == b""  # closed without being served
        held.pop().close()
        deadline = time.monotonic() + 10
        while receiver._http_server._open >= 3 and time.monotonic() < deadline:  # its thread ends
            time.sleep(0.005)
        status, _ = post(endpoints.http or "", "/v1/traces", spans_request("after", [T0]).SerializeToString())
        assert status == 200
        for s in held:
            s.close()
    finally:
        receiver.stop(drain=False, timeout=5)


# --- #8: HTTP and gRPC edge cases ----------------------------------------------------------


@pytest.fixture()
def stub_rx() -> Iterator[tuple[Receiver, Any]]:
    from tests.receive.test_http_transport import StubSink

    sink = StubSink()
    receiver = Receiver(sink=sink, http="127.0.0.1:0", grpc="127.0.0.1:0", write_retries=1)
    receiver.start()
    yield receiver, sink
    sink.gate.set()
    receiver.stop(drain=False, timeout=5)


def raw_exchange(rx: Receiver, data: bytes) -> bytes:
    """Send raw bytes, return everything the server sends until it closes (or 10 s pass)."""
    port = rx.endpoints.http_port
    assert port is not None
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def test_defect8_deeply_nested_json_is_400_not_500(stub_rx: tuple[Receiver, Any]) -> None:
    rx, _ = stub_rx
    deep = b'{"resourceSpans": [' + b'{"x": [' * 5000 + b"]}" * 5000 + b"]}"
    status, _ = post(rx.endpoints.http or "", "/v1/traces", deep, "application/json")
    assert status == 400
    attr = {"key": "k", "value": {"stringValue": "v"}}
    for _ in range(60):  # well-formed OTLP but nested deeper than the protobuf decoder allows
        attr = {"key": "k", "value": {"kvlistValue": {"values": [attr]}}}
    span = {"traceId": "01" * 16, "spanId": "02" * 8, "name": "deep", "attributes": [attr]}
    body = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}).encode()
    status, _ = post(rx.endpoints.http or "", "/v1/traces", body, "application/json")
    assert status == 400


@pytest.mark.parametrize("size", [b"-5", b"0x10", b"zz", b"1" * 40, b""])
def test_defect8_bad_chunk_size_is_400_and_closes(stub_rx: tuple[Receiver, Any], size: bytes) -> None:
    rx, sink = stub_rx
    head = b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
    answer = raw_exchange(rx, head + b"Transfer-Encoding: chunked\r\n\r\n" + size + b"\r\nabcde\r\n0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400"), answer[:100]
    assert b"Connection: close" in answer
    assert sink.spans() == 0


def test_defect8_chunked_with_content_length_is_refused_and_connection_closed(
    stub_rx: tuple[Receiver, Any],
) -> None:
    rx, _ = stub_rx
    smuggled = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    body = b"0\r\n\r\n" + smuggled
    request = (
        b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
        b"Transfer-Encoding: chunked\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    answer = raw_exchange(rx, request)
    assert answer.startswith(b"HTTP/1.1 400")
    assert answer.count(b"HTTP/1.1 ") == 1  # the smuggled request was never served
    assert b"Connection: close" in answer


def test_defect8_unknown_method_is_405(stub_rx: tuple[Receiver, Any]) -> None:
    rx, _ = stub_rx
    answer = raw_exchange(rx, b"BREW /v1/traces HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 405")
    assert b"Allow: POST" in answer


def test_defect8_grpc_malformed_protobuf_is_invalid_argument(stub_rx: tuple[Receiver, Any]) -> None:
    rx, sink = stub_rx
    assert rx.endpoints.grpc is not None
    with grpc.insecure_channel(rx.endpoints.grpc) as channel:
        raw = channel.unary_unary("/opentelemetry.proto.collector.logs.v1.LogsService/Export")
        with pytest.raises(grpc.RpcError) as err:
            raw(b"\x0a\x05\x0a\xff\xff", timeout=10)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        trace_service_pb2_grpc.TraceServiceStub(channel).Export(spans_request("fine", [T0]), timeout=10)
    assert sink.spans() == 1


def test_defect8_non_hex_json_id_rejects_only_its_item(rx: Receiver, store: Any) -> None:
    good = {"traceId": "01" * 16, "spanId": "02" * 8, "name": "json-sibling", "startTimeUnixNano": str(T0)}
    spans = [
        good,
        dict(good, spanId="03" * 8),
        dict(good, traceId="zz" * 16),  # not hex
        dict(good, spanId="04" * 8, parentSpanId="xyz"),  # odd length, not hex
    ]
    body = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}).encode()
    status, data = post(rx.endpoints.http or "", "/v1/traces", body, "application/json")
    assert status == 200
    partial = json.loads(data)["partialSuccess"]
    assert partial["rejectedSpans"] == "2"
    assert "spanId" in partial["errorMessage"]
    assert count(store, "SELECT count() FROM otel_traces WHERE SpanName = 'json-sibling'") == 2


# --- #9: one write per response, prompt shutdown -------------------------------------------


def test_defect9_response_is_one_write_over_keep_alive(stub_rx: tuple[Receiver, Any]) -> None:
    """Headers and body leave in one write: the first read after a request holds the whole
    response. (In two writes, Nagle holds the body back until the client's delayed ACK, ~40 ms.)"""
    rx, _ = stub_rx
    port = rx.endpoints.http_port
    assert port is not None
    span = {"traceId": "01" * 16, "spanId": "02" * 8, "name": "keepalive", "startTimeUnixNano": str(T0)}
    body = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}).encode()
    request = (
        b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        for _ in range(8):
            s.sendall(request)
            first = s.recv(65536)
            head, sep, payload = first.partition(b"\r\n\r\n")
            assert sep and head.startswith(b"HTTP/1.1 200")
            assert payload == b"{}"  # the body came with the headers


def test_defect9_stop_with_half_sent_requests_is_prompt_and_answers_taken_ones(
    stub_rx: tuple[Receiver, Any],
) -> None:
    rx, sink = stub_rx
    port = rx.endpoints.http_port
    assert port is not None and rx.endpoints.grpc is not None
    half = socket.create_connection(("127.0.0.1", port), timeout=60)
    half.sendall(
        b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: 1000\r\n\r\nabc"
    )
    idle = socket.create_connection(("127.0.0.1", port), timeout=60)
    idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert idle.recv(4096).startswith(b"HTTP/1.1 200")
    # a gRPC call whose message never comes
    channel = grpc.insecure_channel(rx.endpoints.grpc)
    never = threading.Event()

    def stalled() -> Iterator[bytes]:
        never.wait(60)
        yield b""

    stream = channel.stream_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")
    stalled_call = stream.future(stalled(), timeout=60)
    # a request that is taken and waits for the (gated) store
    sink.gate.clear()
    taken: list[tuple[int, bytes]] = []
    sender = threading.Thread(
        target=lambda: taken.append(
            post(rx.endpoints.http or "", "/v1/traces", spans_request("taken", [T0]).SerializeToString())
        )
    )
    sender.start()
    while rx._writer.pending_items == 0:  # taken by the writer, which waits on the gate
        time.sleep(0.001)
    started = time.monotonic()
    stopper = threading.Thread(target=rx.stop, kwargs={"drain": True, "timeout": 30})
    stopper.start()
    sink.gate.set()
    stopper.join(30)
    elapsed = time.monotonic() - started
    sender.join(10)
    never.set()
    try:
        assert elapsed < 10, f"stop took {elapsed:.1f} s"
        assert taken and taken[0][0] == 200
        assert sink.spans() == 1
        assert half.recv(4096) == b""  # cut
        assert idle.recv(4096) == b""
        with pytest.raises(grpc.RpcError):
            stalled_call.result(timeout=10)
    finally:
        half.close()
        idle.close()
        channel.close()


# --- #10: unauthenticated exposure -------------------------------------------------------------


def test_defect10_non_loopback_bind_without_token_is_refused() -> None:
    result = CliRunner().invoke(cli, ["collect", "--http", "0.0.0.0:4318", "--grpc", "off"])
    assert result.exit_code == 2, result.output
    assert "--allow-unauthenticated" in result.output and "--http" in result.output
    result = CliRunner().invoke(cli, ["collect", "--http", "off", "--grpc", "[::]:4317"])
    assert result.exit_code == 2 and "--grpc" in result.output


def test_exposure_check_knows_loopback_and_tokens() -> None:
    assert exposed_without_token({"--http": "0.0.0.0:4318", "--grpc": ":4317"}, None) == ["--http", "--grpc"]
    assert exposed_without_token({"--http": "127.0.0.1:4318", "--grpc": "[::1]:4317"}, None) == []
    assert exposed_without_token({"--http": "localhost:4318", "--grpc": None}, None) == []
    assert exposed_without_token({"--http": "0.0.0.0:4318"}, "token") == []


def test_defect1_metric_time_limit_follows_the_tables_time_type(db_client: Any, store: Any) -> None:
    """Points after 2106 fit the older layout's DateTime64(9) TimeUnix, not the newest DateTime."""
    from otel_impact.receive.admission import DATETIME64_MAX_NS, DATETIME_MAX_NS

    assert store_sink(store).limits.max_metric_time_ns == DATETIME_MAX_NS  # type: ignore[attr-defined]
    db_client.command("DROP TABLE otel_metrics_gauge")
    db_client.command(
        "CREATE TABLE otel_metrics_gauge (TimeUnix DateTime64(9)) ENGINE = MergeTree ORDER BY TimeUnix"
    )
    import clickhouse_connect

    from tests.conftest import _dsn

    fresh = clickhouse_connect.get_client(dsn=_dsn(), database=db_client.database)  # no cached types
    assert store_sink(fresh).limits.max_metric_time_ns == DATETIME64_MAX_NS  # type: ignore[attr-defined]
