"""Issue 16 #5: the receiver's memory stays within its byte budget under a flood.

A receiver runs in a subprocess (so its RSS is its own) with a 16 MiB budget and a slow sink.
Sixteen clients post gzip bodies that inflate to 4 MiB each, while eight unauthenticated gRPC
clients send 24 MiB messages. Without admission-time accounting every body was read, inflated
and parsed at once (hundreds of MiB); now the budget refuses what it cannot hold (429) before
inflating it, and unauthenticated gRPC messages are refused before they are read. The peak RSS
(sampled with psutil) must stay within budget + a fixed overhead; ``benchmarks/receive_flood.py``
records the full-size figures.
"""

from __future__ import annotations

import gzip
import http.client
import subprocess
import sys
import threading
from typing import Any

import grpc
import psutil
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from tests.conftest import REPO

MIB = 1 << 20
BUDGET = 16 * MIB
OVERHEAD = 96 * MIB  # threads, grpc stream windows, malloc arenas, one request over budget when alone
TOKEN = "flood-token"

SERVER = f"""
import sys, time
from otel_impact.receive import Receiver

class SlowSink:
    def __call__(self, signal, requests):
        time.sleep(0.05)
        return len(requests)

rx = Receiver(sink=SlowSink(), http="127.0.0.1:0", grpc="127.0.0.1:0", auth_token={TOKEN!r},
              max_queue_bytes={BUDGET}, max_body=64 * 1024 * 1024)
e = rx.start()
print(e.http_port, e.grpc_port, flush=True)
sys.stdin.read()
rx.stop(drain=False, timeout=5)
"""


def big_request(size: int) -> trace_service_pb2.ExportTraceServiceRequest:
    attr = common_pb2.KeyValue(key="blob", value=common_pb2.AnyValue(string_value="a" * size))
    span = trace_pb2.Span(trace_id=b"\x01" * 16, span_id=b"\x02" * 8, name="flood", attributes=[attr])
    return trace_service_pb2.ExportTraceServiceRequest(
        resource_spans=[trace_pb2.ResourceSpans(scope_spans=[trace_pb2.ScopeSpans(spans=[span])])]
    )


def test_defect5_rss_stays_within_budget_under_gzip_and_unauthenticated_grpc_flood() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    try:
        assert proc.stdout is not None
        http_port, grpc_port = (int(x) for x in proc.stdout.readline().split())
        server = psutil.Process(proc.pid)
        gz = gzip.compress(big_request(4 * MIB).SerializeToString(), 1)
        unauth = big_request(24 * MIB).SerializeToString()
        statuses: list[int] = []
        grpc_codes: list[Any] = []

        def post(n: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=60)
            headers = {
                "Content-Type": "application/x-protobuf",
                "Content-Encoding": "gzip",
                "Authorization": f"Bearer {TOKEN}",
            }
            for _ in range(n):
                conn.request("POST", "/v1/traces", body=gz, headers=headers)
                response = conn.getresponse()
                response.read()
                statuses.append(response.status)
                if response.getheader("Connection") == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=60)
            conn.close()

        def unauthenticated() -> None:
            with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
                call = channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")
                try:
                    call(unauth, timeout=60)
                except grpc.RpcError as exc:
                    grpc_codes.append(exc.code())

        post(1)  # warm up every code path once, then take the baseline
        baseline = server.memory_info().rss
        peak = baseline
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.wait(0.002):
                peak = max(peak, server.memory_info().rss)

        sampler = threading.Thread(target=sample)
        sampler.start()
        clients = [threading.Thread(target=post, args=(3,)) for _ in range(16)]
        clients += [threading.Thread(target=unauthenticated) for _ in range(8)]
        for t in clients:
            t.start()
        for t in clients:
            t.join(120)
        done.set()
        sampler.join()
        growth = peak - baseline
        assert grpc_codes == [grpc.StatusCode.UNAUTHENTICATED] * 8
        assert set(statuses) <= {200, 429} and 200 in statuses
        assert growth <= BUDGET + OVERHEAD, f"RSS grew by {growth / MIB:.0f} MiB"
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        proc.wait(30)
