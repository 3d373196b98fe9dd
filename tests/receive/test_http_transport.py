"""OTLP/HTTP and gRPC transport behaviour with a stub sink (no store): statuses, auth, TLS.

The store-backed acceptance tests live in test_receiver_store.py; these pin the transport layer:
every bad input gets its documented status and the receiver keeps serving afterwards.
"""

from __future__ import annotations

import gzip
import http.client
import json
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import json_format
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.trace.v1 import trace_pb2

from otel_impact.receive import Receiver, Signal

MAX_BODY = 256 * 1024
TOKEN = "s3cret-token"


class StubSink:
    def __init__(self) -> None:
        self.requests: list[tuple[Signal, Any]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.fail = False

    def __call__(self, signal: Signal, requests: Sequence[Any]) -> int:
        self.gate.wait(10)
        if self.fail:
            raise RuntimeError("store is down")
        self.requests.extend((signal, r) for r in requests)
        return len(requests)

    def spans(self) -> int:
        return sum(
            len(ss.spans) for s, r in self.requests for rs in r.resource_spans for ss in rs.scope_spans
        )


def traces_request(n: int = 3, trace_id: bytes = b"\x01" * 16) -> trace_service_pb2.ExportTraceServiceRequest:
    spans = [
        trace_pb2.Span(trace_id=trace_id, span_id=(i + 1).to_bytes(8, "big"), name=f"s{i}") for i in range(n)
    ]
    return trace_service_pb2.ExportTraceServiceRequest(
        resource_spans=[trace_pb2.ResourceSpans(scope_spans=[trace_pb2.ScopeSpans(spans=spans)])]
    )


@pytest.fixture()
def sink() -> StubSink:
    return StubSink()


@pytest.fixture()
def rx(sink: StubSink) -> Iterator[Receiver]:
    receiver = Receiver(
        sink=sink, http="127.0.0.1:0", grpc="127.0.0.1:0", max_body=MAX_BODY, write_retries=2, retry_after=1
    )
    receiver.start()
    yield receiver
    sink.gate.set()
    receiver.stop(drain=False, timeout=5)


def post(
    rx: Receiver,
    path: str,
    body: bytes,
    content_type: str | None = "application/x-protobuf",
    method: str = "POST",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", rx.endpoints.http_port, timeout=10)
    hdrs = dict(headers or {})
    if content_type:
        hdrs["Content-Type"] = content_type
    conn.request(method, path, body=body, headers=hdrs)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data


def decode_status(headers: dict[str, str], data: bytes) -> status_pb2.Status:
    """The google.rpc.Status error body, in whichever content type the server answered."""
    if headers["content-type"] == "application/json":
        return json_format.Parse(data, status_pb2.Status())
    return status_pb2.Status.FromString(data)


def assert_serving(rx: Receiver, sink: StubSink) -> None:
    before = sink.spans()
    status, _, _ = post(rx, "/v1/traces", traces_request(2).SerializeToString())
    assert status == 200
    assert sink.spans() == before + 2


def test_protobuf_post_is_written_before_the_200(rx: Receiver, sink: StubSink) -> None:
    status, headers, body = post(rx, "/v1/traces", traces_request(3).SerializeToString())
    assert status == 200
    assert headers["content-type"] == "application/x-protobuf"
    assert trace_service_pb2.ExportTraceServiceResponse.FromString(body).partial_success.rejected_spans == 0
    assert sink.spans() == 3  # written by the time the response arrived
    assert rx.stats.snapshot()["accepted"]["traces"] == 3


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_compressed_bodies(rx: Receiver, sink: StubSink, encoding: str) -> None:
    import zlib

    wire = traces_request(4).SerializeToString()
    body = gzip.compress(wire) if encoding == "gzip" else zlib.compress(wire)
    status, _, _ = post(rx, "/v1/traces", body, headers={"Content-Encoding": encoding})
    assert status == 200
    assert sink.spans() == 4


def test_json_response_and_partial_success(rx: Receiver, sink: StubSink) -> None:
    span = {"traceId": "ab" * 16, "spanId": "cd" * 8, "name": "ok"}
    bad = {"traceId": "ab" * 3, "spanId": "cd" * 8, "name": "short-trace-id"}
    body = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span, bad]}]}]}).encode()
    status, headers, data = post(rx, "/v1/traces", body, "application/json")
    assert status == 200
    assert headers["content-type"] == "application/json"
    reply = json.loads(data)
    assert reply["partialSuccess"]["rejectedSpans"] == "1"
    assert "16-byte" in reply["partialSuccess"]["errorMessage"]
    assert sink.spans() == 1
    assert rx.stats.snapshot()["refused"]["traces"] == 1


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("truncated-protobuf", 400),
        ("wrong-content-type", 415),
        ("invalid-json", 400),
        ("oversized", 413),
        ("gzip-bomb", 413),
        ("wrong-path", 404),
        ("wrong-method", 405),
        ("bad-encoding", 415),
    ],
)
def test_bad_input_gets_status_and_receiver_keeps_serving(
    rx: Receiver, sink: StubSink, case: str, expected: int
) -> None:
    wire = traces_request(3).SerializeToString()
    kwargs: dict[str, Any] = {}
    path, body, ctype, method = "/v1/traces", wire, "application/x-protobuf", "POST"
    if case == "truncated-protobuf":
        body = wire[:-5]
    elif case == "wrong-content-type":
        ctype = "text/plain"
    elif case == "invalid-json":
        body, ctype = b'{"resourceSpans": [', "application/json"
    elif case == "oversized":
        body = b"\0" * (MAX_BODY + 1)
    elif case == "gzip-bomb":
        body = gzip.compress(b"\0" * (64 * MAX_BODY))
        assert len(body) < MAX_BODY
        kwargs["headers"] = {"Content-Encoding": "gzip"}
    elif case == "wrong-path":
        path = "/v1/spans"
    elif case == "wrong-method":
        method = "PUT"
    elif case == "bad-encoding":
        kwargs["headers"] = {"Content-Encoding": "zstd"}
    status, headers, data = post(rx, path, body, ctype, method=method, **kwargs)
    assert status == expected
    assert decode_status(headers, data).message
    if case == "wrong-method":
        assert headers["allow"] == "POST"
    assert sink.spans() == 0
    assert_serving(rx, sink)


def test_get_on_signal_path_is_405(rx: Receiver) -> None:
    status, headers, _ = post(rx, "/v1/logs", b"", None, method="GET")
    assert status == 405
    assert headers["allow"] == "POST"


def test_queue_full_answers_429_with_retry_after(sink: StubSink) -> None:
    sink.gate.clear()  # writes block: the first request stays pending
    rx = Receiver(sink=sink, http="127.0.0.1:0", grpc=None, max_queue_items=5, flush_interval=0)
    rx.start()
    try:
        result: dict[str, int] = {}
        first = threading.Thread(
            target=lambda: result.update(s=post(rx, "/v1/traces", traces_request(5).SerializeToString())[0])
        )
        first.start()
        while rx._writer.pending_items < 5:
            threading.Event().wait(0.01)
        status, headers, data = post(rx, "/v1/traces", traces_request(1).SerializeToString())
        assert status == 429
        assert headers["retry-after"] == "1"
        assert status_pb2.Status.FromString(data).code == 14
        assert rx.stats.snapshot()["refused"]["traces"] == 1
        sink.gate.set()
        first.join(10)
        assert result["s"] == 200
    finally:
        sink.gate.set()
        rx.stop()


def test_store_failure_is_503_never_200(rx: Receiver, sink: StubSink) -> None:
    sink.fail = True
    status, headers, _ = post(rx, "/v1/traces", traces_request(2).SerializeToString())
    assert status == 503
    assert "retry-after" in headers
    assert rx.stats.snapshot()["failed"]["traces"] == 2
    sink.fail = False
    assert_serving(rx, sink)


def test_healthz_and_prometheus_metrics(rx: Receiver) -> None:
    post(rx, "/v1/traces", traces_request(3).SerializeToString())
    status, _, body = post(rx, "/healthz", b"", None, method="GET")
    assert status == 200
    health = json.loads(body)
    assert health["status"] == "ok"
    assert health["accepted"]["traces"] == 3
    status, headers, text = post(rx, "/metrics", b"", None, method="GET")
    assert status == 200
    assert headers["content-type"].startswith("text/plain")
    assert 'otel_impact_receiver_items_accepted_total{signal="traces"} 3' in text.decode()
    assert post(rx, "/healthz", b"x", "text/plain", method="POST")[0] == 405


def test_receiver_counters_reach_the_otel_meter(sink: StubSink) -> None:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from otel_impact import semconv

    reader = InMemoryMetricReader()
    with Receiver(sink=sink, http="127.0.0.1:0", grpc=None, meter_provider=MeterProvider([reader])) as rx:
        post(rx, "/v1/traces", traces_request(4).SerializeToString())
    data = reader.get_metrics_data()
    points = {
        (m.name, dict(p.attributes)[semconv.RECEIVER_SIGNAL]): p.value
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
        for p in m.data.data_points
    }
    assert points[(semconv.METRIC_RECEIVER_ACCEPTED, "traces")] == 4


# --- auth -------------------------------------------------------------------------------------


@pytest.fixture()
def authed(sink: StubSink) -> Iterator[Receiver]:
    with Receiver(sink=sink, http="127.0.0.1:0", grpc="127.0.0.1:0", auth_token=TOKEN) as receiver:
        yield receiver


def test_http_auth(authed: Receiver, sink: StubSink) -> None:
    wire = traces_request(1).SerializeToString()
    status, headers, _ = post(authed, "/v1/traces", wire)
    assert status == 401
    assert headers["www-authenticate"].startswith("Bearer")
    assert post(authed, "/v1/traces", wire, headers={"Authorization": "Bearer wrong"})[0] == 401
    assert post(authed, "/metrics", b"", None, method="GET")[0] == 401
    assert post(authed, "/healthz", b"", None, method="GET")[0] == 200
    assert sink.spans() == 0
    assert post(authed, "/v1/traces", wire, headers={"Authorization": f"Bearer {TOKEN}"})[0] == 200
    assert sink.spans() == 1


def test_grpc_auth(authed: Receiver, sink: StubSink) -> None:
    with grpc.insecure_channel(authed.endpoints.grpc) as channel:
        stub = trace_service_pb2_grpc.TraceServiceStub(channel)
        with pytest.raises(grpc.RpcError) as err:
            stub.Export(traces_request(1), timeout=10)
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
        stub.Export(traces_request(2), metadata=[("authorization", f"Bearer {TOKEN}")], timeout=10)
    assert sink.spans() == 2


def test_grpc_partial_success(rx: Receiver, sink: StubSink) -> None:
    request = traces_request(3)
    request.resource_spans[0].scope_spans[0].spans[1].span_id = b"\x01\x02"  # 2-byte span id
    assert rx.endpoints.grpc is not None
    with grpc.insecure_channel(rx.endpoints.grpc) as channel:
        reply = trace_service_pb2_grpc.TraceServiceStub(channel).Export(request, timeout=10)
    assert reply.partial_success.rejected_spans == 1
    assert "8-byte spanId" in reply.partial_success.error_message
    assert sink.spans() == 2


def test_grpc_malformed_message_is_refused_and_server_keeps_serving(rx: Receiver, sink: StubSink) -> None:
    assert rx.endpoints.grpc is not None
    with grpc.insecure_channel(rx.endpoints.grpc) as channel:
        raw = channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")
        with pytest.raises(grpc.RpcError) as err:
            raw(b"\x0a\xff\xff\xff", timeout=10)  # length prefix beyond the message
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # not grpc's own INTERNAL
        trace_service_pb2_grpc.TraceServiceStub(channel).Export(traces_request(2), timeout=10)
    assert sink.spans() == 2


def test_grpc_receive_limit_is_the_body_limit_not_grpcs_4_mib(rx: Receiver, sink: StubSink) -> None:
    request = traces_request(1)
    span = request.resource_spans[0].scope_spans[0].spans[0]
    span.attributes.add(key="blob").value.string_value = "x" * (5 * 1024 * 1024)
    assert request.ByteSize() > 4 * 1024 * 1024
    options = [("grpc.max_send_message_length", 64 * 1024 * 1024)]
    assert rx.endpoints.grpc is not None
    with grpc.insecure_channel(rx.endpoints.grpc, options=options) as channel:  # max_body = 256 KiB here
        with pytest.raises(grpc.RpcError) as err:
            trace_service_pb2_grpc.TraceServiceStub(channel).Export(request, timeout=30)
        assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    with Receiver(sink=sink, http=None, grpc="127.0.0.1:0") as default_limit:  # 64 MiB
        assert default_limit.endpoints.grpc is not None
        with grpc.insecure_channel(default_limit.endpoints.grpc, options=options) as channel:
            trace_service_pb2_grpc.TraceServiceStub(channel).Export(request, timeout=30)
    assert sink.spans() == 1


def test_listens_on_loopback_by_default() -> None:
    import inspect

    from otel_impact.cli.collect import command

    params = inspect.signature(Receiver).parameters
    assert params["http"].default == "127.0.0.1:4318"
    assert params["grpc"].default == "127.0.0.1:4317"
    defaults = {p.name: p.default for p in command.params}
    assert defaults["http"] == "127.0.0.1:4318"
    assert defaults["grpc_"] == "127.0.0.1:4317"


def test_grpc_queue_full_is_unavailable_with_retry_info(sink: StubSink) -> None:
    sink.gate.clear()
    rx = Receiver(sink=sink, http=None, grpc="127.0.0.1:0", max_queue_items=3, flush_interval=0)
    rx.start()
    try:
        with grpc.insecure_channel(rx.endpoints.grpc) as channel:
            stub = trace_service_pb2_grpc.TraceServiceStub(channel)
            pending = stub.Export.future(traces_request(3), timeout=10)
            while rx._writer.pending_items < 3:
                threading.Event().wait(0.01)
            with pytest.raises(grpc.RpcError) as err:
                stub.Export(traces_request(1), timeout=10)
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE
            trailers = dict(err.value.trailing_metadata())
            assert "google.rpc.retryinfo-bin" in trailers
            sink.gate.set()
            pending.result(10)
    finally:
        sink.gate.set()
        rx.stop()
    assert sink.spans() == 3


# --- TLS --------------------------------------------------------------------------------------


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    try:
        import datetime

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        openssl = shutil.which("openssl")
        if openssl is None:
            pytest.skip(
                "neither the cryptography package nor openssl is available to make a test certificate"
            )
        subprocess.run(
            [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
            check=True, capture_output=True,
        )  # fmt: skip
        return cert, key
    pkey = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    import ipaddress

    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(pkey.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .sign(pkey, hashes.SHA256())
    )
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        pkey.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert, key


def test_tls_on_both_protocols(tmp_path: Path, sink: StubSink) -> None:
    cert, key = _self_signed(tmp_path)
    with Receiver(sink=sink, http="127.0.0.1:0", grpc="127.0.0.1:0", tls_cert=cert, tls_key=key) as rx:
        assert rx.endpoints.http is not None and rx.endpoints.http.startswith("https://")
        ctx = ssl.create_default_context(cafile=str(cert))
        conn = http.client.HTTPSConnection("127.0.0.1", rx.endpoints.http_port, context=ctx, timeout=10)
        conn.request(
            "POST",
            "/v1/traces",
            body=traces_request(2).SerializeToString(),
            headers={"Content-Type": "application/x-protobuf"},
        )
        assert conn.getresponse().status == 200
        conn.close()
        # plain HTTP against the TLS port gets nowhere, and the server keeps serving
        plain = http.client.HTTPConnection("127.0.0.1", rx.endpoints.http_port, timeout=5)
        with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
            plain.request("POST", "/v1/traces", body=b"", headers={"Content-Type": "application/x-protobuf"})
            plain.getresponse().read()
        creds = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
        with grpc.secure_channel(rx.endpoints.grpc, creds) as channel:
            trace_service_pb2_grpc.TraceServiceStub(channel).Export(traces_request(3), timeout=10)
    assert sink.spans() == 5


def test_a_burst_of_concurrent_exporters_is_queued_not_reset(rx: Receiver, sink: StubSink) -> None:
    """Many exporters connecting at once wait in the listen backlog instead of being reset."""
    from otel_impact.receive.http_server import OTLPHTTPServer

    assert OTLPHTTPServer.request_queue_size >= 128
    body = traces_request(1).SerializeToString()
    sink.gate.clear()  # writes block, so every connection stays open until the gate opens
    statuses: list[int] = []
    errors: list[BaseException] = []

    def one() -> None:
        try:
            statuses.append(post(rx, "/v1/traces", body)[0])
        except BaseException as exc:  # a reset would land here
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(64)]
    for t in threads:
        t.start()
    sink.gate.set()
    for t in threads:
        t.join(30)
    assert errors == []
    assert statuses == [200] * 64
    assert sink.spans() == 64
