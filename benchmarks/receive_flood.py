"""Receiver under hostile and broken input: poisoning, floods, keep-alive latency, shutdown.

Every scenario runs the real ``otel-impact collect`` in a subprocess on a fresh embedded chDB
directory and drives it from this process over loopback:

* ``poison`` — four innocent clients post 20-span requests over keep-alive for ``--seconds``;
  once alone, once while a fifth client keeps posting unstorable items (a span starting at
  2^64-1 ns, a log record after 2262, a metric point after 2106) and a request spanning 101
  days (``--no-wide`` leaves that one out: its first 100 days are storable but cost one
  partition each). Reports the innocent requests acknowledged in that time and any non-200
  answers they got.
* ``flood`` — ``--queue-mib`` budget; 32 clients post gzip bodies (~60 KiB) inflating to 60 MiB
  of zeros, while 8 unauthenticated gRPC clients send 60 MiB messages (the receiver has a
  token). Reports the receiver's peak RSS (``VmHWM``) against its RSS after start.
* ``keepalive`` — 200 sequential one-span OTLP/JSON posts on one connection: latency.
* ``shutdown`` — 50 acknowledged requests, then three half-sent requests and two idle
  keep-alive connections stay open; SIGTERM; time until the process exits, and whether every
  acknowledged span is in the store afterwards.

``--code DIR`` runs the receiver from another checkout (e.g. ``git archive <commit> | tar -x -C
DIR``) to measure the same scenarios before a change::

    .venv/bin/python benchmarks/receive_flood.py                    # every scenario
    .venv/bin/python benchmarks/receive_flood.py --scenario flood --queue-mib 64
    .venv/bin/python benchmarks/receive_flood.py --code /tmp/before --scenario poison
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psutil
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.logs.v1 import logs_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

REPO = Path(__file__).resolve().parent.parent
T0 = 1_763_000_000_000_000_000
DAY = 86_400 * 10**9
MIB = 1 << 20
TOKEN = "bench-token"


class Collect:
    """``otel-impact collect`` in a subprocess, from ``code`` (a checkout's root)."""

    def __init__(self, code: Path, db: Path, *args: str, token: bool = False) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = str(code)
        env.pop("OTEL_IMPACT_RECEIVER_AUTH_TOKEN", None)
        if token:
            env["OTEL_IMPACT_RECEIVER_AUTH_TOKEN"] = TOKEN
        cmd = [
            sys.executable,
            "-c",
            "from otel_impact.cli import main; main()",
            "collect",
            "--dsn",
            f"chdb://{db}",
        ]
        self.proc = subprocess.Popen([*cmd, *args], stderr=subprocess.PIPE, text=True, env=env, cwd=db.parent)
        assert self.proc.stderr is not None
        self.http_port = self.grpc_port = 0
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                raise RuntimeError(f"collect exited {self.proc.wait()}")
            if m := re.search(r"http://127\.0\.0\.1:(\d+)", line):
                self.http_port = int(m.group(1))
            if m := re.search(r"OTLP/gRPC 127\.0\.0\.1:(\d+)", line):
                self.grpc_port = int(m.group(1))
            if "receiving" in line:
                break
        threading.Thread(target=self._drain, daemon=True).start()
        self.ps = psutil.Process(self.proc.pid)

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        for _ in self.proc.stderr:
            pass

    def hwm(self) -> int:
        """Peak resident set size so far (VmHWM), bytes."""
        text = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", text).group(1)) * 1024  # type: ignore[union-attr]

    def stop(self) -> float:
        """SIGTERM; seconds until the process exited."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(120)
        return time.monotonic() - started


def spans(name: str, starts: Sequence[int]) -> bytes:
    items = [
        trace_pb2.Span(
            trace_id=b"\x01" * 16,
            span_id=(i + 1).to_bytes(8, "big"),
            name=name,
            start_time_unix_nano=t,
            end_time_unix_nano=t,
        )
        for i, t in enumerate(starts)
    ]
    return trace_service_pb2.ExportTraceServiceRequest(
        resource_spans=[trace_pb2.ResourceSpans(scope_spans=[trace_pb2.ScopeSpans(spans=items)])]
    ).SerializeToString()


def poisons(wide: bool = True) -> list[tuple[str, bytes]]:
    log = logs_service_pb2.ExportLogsServiceRequest(
        resource_logs=[
            logs_pb2.ResourceLogs(
                scope_logs=[logs_pb2.ScopeLogs(log_records=[logs_pb2.LogRecord(time_unix_nano=2**63)])]
            )
        ]
    )
    point = metrics_pb2.NumberDataPoint(time_unix_nano=(2**32 + 5) * 10**9, as_double=1.0)
    metric = metrics_pb2.Metric(name="poison", gauge=metrics_pb2.Gauge(data_points=[point]))
    metrics = metrics_service_pb2.ExportMetricsServiceRequest(
        resource_metrics=[
            metrics_pb2.ResourceMetrics(scope_metrics=[metrics_pb2.ScopeMetrics(metrics=[metric])])
        ]
    )
    out = [
        ("/v1/traces", spans("poison", [2**64 - 1])),
        ("/v1/logs", log.SerializeToString()),
        ("/v1/metrics", metrics.SerializeToString()),
    ]
    if wide:
        out.append(("/v1/traces", spans("poison", [T0 + d * DAY for d in range(101)])))
    return out


def post_loop(port: int, items: list[tuple[str, bytes]], stop: threading.Event, out: list[int]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    while not stop.is_set():
        for path, body in items:
            try:
                conn.request("POST", path, body=body, headers={"Content-Type": "application/x-protobuf"})
                response = conn.getresponse()
                response.read()
                out.append(response.status)
            except (OSError, http.client.HTTPException):
                out.append(-1)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            if stop.is_set():
                break
    conn.close()


def scenario_poison(code: Path, seconds: float, wide: bool = True) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for arm in ("alone", "poisoned"):
        with tempfile.TemporaryDirectory() as tmp:
            rx = Collect(code, Path(tmp) / "db", "--http", "127.0.0.1:0", "--grpc", "off")
            stop = threading.Event()
            innocent: list[list[int]] = [[] for _ in range(4)]
            threads = [
                threading.Thread(
                    target=post_loop,
                    args=(
                        rx.http_port,
                        [("/v1/traces", spans(f"innocent-{k}", [T0 + j for j in range(20)]))],
                        stop,
                        out,
                    ),
                )
                for k, out in enumerate(innocent)
            ]
            bad: list[int] = []
            if arm == "poisoned":
                threads.append(
                    threading.Thread(target=post_loop, args=(rx.http_port, poisons(wide), stop, bad))
                )
            for t in threads:
                t.start()
            time.sleep(seconds)  # the measurement window
            stop.set()
            for t in threads:
                t.join(300)
            rx.stop()
            statuses = [s for out in innocent for s in out]
            results[arm] = {
                "innocent_acknowledged": statuses.count(200),
                "innocent_other": len(statuses) - statuses.count(200),
                "poison_requests": len(bad),
                "poison_statuses": sorted(set(bad)),
            }
    return results


def scenario_flood(code: Path, queue_mib: int, clients: int = 32, grpc_clients: int = 8) -> dict[str, Any]:
    import grpc

    zeros = gzip.compress(bytes(60 * MIB), 6)
    attr = common_pb2.KeyValue(key="blob", value=common_pb2.AnyValue(string_value="a" * (60 * MIB)))
    span = trace_pb2.Span(trace_id=b"\x01" * 16, span_id=b"\x02" * 8, name="flood", attributes=[attr])
    big = trace_service_pb2.ExportTraceServiceRequest(
        resource_spans=[trace_pb2.ResourceSpans(scope_spans=[trace_pb2.ScopeSpans(spans=[span])])]
    ).SerializeToString()
    with tempfile.TemporaryDirectory() as tmp:
        rx = Collect(code, Path(tmp) / "db", "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0",
                     "--queue-mib", str(queue_mib), token=True)  # fmt: skip
        post_status: list[int] = []
        grpc_codes: list[str] = []
        start_rss = rx.ps.memory_info().rss

        def post() -> None:
            for _ in range(2):
                conn = http.client.HTTPConnection("127.0.0.1", rx.http_port, timeout=300)
                try:
                    conn.request("POST", "/v1/traces", body=zeros, headers={
                        "Content-Type": "application/x-protobuf", "Content-Encoding": "gzip",
                        "Authorization": f"Bearer {TOKEN}"})  # fmt: skip
                    response = conn.getresponse()
                    response.read()
                    post_status.append(response.status)
                except (OSError, http.client.HTTPException):
                    post_status.append(-1)
                finally:
                    conn.close()

        def unauthenticated() -> None:
            with grpc.insecure_channel(f"127.0.0.1:{rx.grpc_port}", options=[
                    ("grpc.max_send_message_length", 128 * MIB)]) as channel:  # fmt: skip
                call = channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")
                try:
                    call(big, timeout=300)
                    grpc_codes.append("OK")
                except grpc.RpcError as exc:
                    grpc_codes.append(exc.code().name)

        threads = [threading.Thread(target=post) for _ in range(clients)]
        threads += [threading.Thread(target=unauthenticated) for _ in range(grpc_clients)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(600)
        elapsed = time.monotonic() - started
        peak = rx.hwm()
        rx.stop()
    return {
        "queue_mib": queue_mib,
        "rss_after_start_mib": round(start_rss / MIB),
        "peak_rss_mib": round(peak / MIB),
        "growth_mib": round((peak - start_rss) / MIB),
        "http_statuses": {s: post_status.count(s) for s in sorted(set(post_status))},
        "grpc_codes": {c: grpc_codes.count(c) for c in sorted(set(grpc_codes))},
        "seconds": round(elapsed, 1),
    }


def scenario_keepalive(code: Path, n: int = 200) -> dict[str, Any]:
    """Sequential requests on one connection: ``GET /healthz`` (HTTP layer only) and a one-span
    OTLP/JSON export (includes the store write); both responses carry a body."""
    span = {"traceId": "01" * 16, "spanId": "02" * 8, "name": "keepalive", "startTimeUnixNano": str(T0)}
    body = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}).encode()
    result: dict[str, Any] = {"requests": n}
    with tempfile.TemporaryDirectory() as tmp:
        rx = Collect(code, Path(tmp) / "db", "--http", "127.0.0.1:0", "--grpc", "off")
        conn = http.client.HTTPConnection("127.0.0.1", rx.http_port, timeout=60)
        for label, method, path, payload in (
            ("healthz", "GET", "/healthz", None),
            ("export", "POST", "/v1/traces", body),
        ):
            latencies = []
            for _ in range(n):
                t = time.perf_counter()
                conn.request(method, path, body=payload, headers={"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                latencies.append(time.perf_counter() - t)
            latencies.sort()
            result[f"{label}_median_ms"] = round(statistics.median(latencies) * 1000, 2)
            result[f"{label}_p90_ms"] = round(latencies[int(0.9 * n)] * 1000, 2)
        conn.close()
        rx.stop()
    return result


def scenario_shutdown(code: Path) -> dict[str, Any]:
    import clickhouse_connect

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "db"
        rx = Collect(code, db, "--http", "127.0.0.1:0", "--grpc", "off")
        acked = 0
        conn = http.client.HTTPConnection("127.0.0.1", rx.http_port, timeout=60)
        for i in range(50):
            conn.request("POST", "/v1/traces", body=spans("drain", [T0 + i * 100 + j for j in range(10)]),
                         headers={"Content-Type": "application/x-protobuf"})  # fmt: skip
            response = conn.getresponse()
            response.read()
            acked += 10 if response.status == 200 else 0
        conn.close()
        held = []
        for _ in range(3):
            s = socket.create_connection(("127.0.0.1", rx.http_port))
            s.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
                      b"Content-Length: 100000\r\n\r\nhalf")  # fmt: skip
            held.append(s)
        for _ in range(2):
            s = socket.create_connection(("127.0.0.1", rx.http_port))
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            s.recv(4096)
            held.append(s)
        seconds = rx.stop()
        for s in held:
            s.close()
        client = clickhouse_connect.get_client(dsn=f"chdb://{db}")
        stored = int(client.command("SELECT count() FROM otel_traces WHERE SpanName = 'drain'"))  # type: ignore[arg-type]
    return {"sigterm_to_exit_s": round(seconds, 2), "acknowledged_spans": acked, "stored_spans": stored}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scenario", choices=["poison", "flood", "keepalive", "shutdown", "all"], default="all"
    )
    parser.add_argument(
        "--code", type=Path, default=REPO, help="checkout whose receiver runs (default: this one)"
    )
    parser.add_argument("--seconds", type=float, default=15.0, help="poison: measurement window")
    parser.add_argument(
        "--no-wide",
        action="store_true",
        help="poison: leave out the 101-day request (storable, but 100 partitions)",
    )
    parser.add_argument("--queue-mib", type=int, default=64, help="flood: the receiver's byte budget")
    parser.add_argument("--clients", type=int, default=32, help="flood: HTTP clients (2 gzip posts each)")
    parser.add_argument("--grpc-clients", type=int, default=8, help="flood: unauthenticated gRPC clients")
    args = parser.parse_args()
    chosen = ["poison", "flood", "keepalive", "shutdown"] if args.scenario == "all" else [args.scenario]
    print(f"load average before: {os.getloadavg()}", flush=True)
    for name in chosen:
        if name == "poison":
            result = scenario_poison(args.code, args.seconds, not args.no_wide)
        elif name == "flood":
            result = scenario_flood(args.code, args.queue_mib, args.clients, args.grpc_clients)
        elif name == "keepalive":
            result = scenario_keepalive(args.code)
        else:
            result = scenario_shutdown(args.code)
        print(name, json.dumps(result), flush=True)
    print(f"load average after: {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
