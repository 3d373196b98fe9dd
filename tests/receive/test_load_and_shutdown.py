"""Back-pressure under load (exporters' own retries deliver everything exactly once) and SIGTERM drain.

* Load: four real SDK exporters (two OTLP/HTTP, two OTLP/gRPC) push batches concurrently into a
  receiver whose queue holds fewer items than they send at once. The surplus is refused with
  429 / UNAVAILABLE + a retry delay; the exporters retry; every span arrives, none twice.
* SIGTERM: ``otel-impact collect`` runs in a subprocess on an embedded chDB directory; clients
  push until it is told to stop; afterwards another subprocess (this one already has an
  engine open) reads the directory: every acknowledged span is there, nothing unknown is.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from otel_impact.receive import Receiver
from tests.conftest import REPO

BATCH = 40


def _readable_spans(n: int, name: str) -> list[Any]:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    memory = InMemorySpanExporter()
    tp = TracerProvider()
    tp.add_span_processor(SimpleSpanProcessor(memory))
    tracer = tp.get_tracer("load")
    for i in range(n):
        tracer.start_span(f"{name}-{i}").end()
    return list(memory.get_finished_spans())


def test_back_pressure_exporters_retry_until_every_span_lands_once(store: Any) -> None:
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
    from opentelemetry.sdk.trace.export import SpanExportResult

    batches_per_exporter = 3
    rx = Receiver(
        store, http="127.0.0.1:0", grpc="127.0.0.1:0", max_queue_items=2 * BATCH + 10, flush_interval=0.2
    )
    rx.start()
    try:
        exporters = [
            HttpExporter(endpoint=f"{rx.endpoints.http}/v1/traces", timeout=30),
            HttpExporter(endpoint=f"{rx.endpoints.http}/v1/traces", timeout=30),
            GrpcExporter(endpoint=rx.endpoints.grpc, insecure=True, timeout=30),
            GrpcExporter(endpoint=rx.endpoints.grpc, insecure=True, timeout=30),
        ]
        work = [_readable_spans(BATCH * batches_per_exporter, f"e{i}") for i in range(len(exporters))]
        results: list[Any] = []
        barrier = threading.Barrier(len(exporters))

        def push(exporter: Any, spans: list[Any]) -> None:
            barrier.wait()
            for k in range(0, len(spans), BATCH):
                results.append(exporter.export(spans[k : k + BATCH]))

        threads = [threading.Thread(target=push, args=(e, w)) for e, w in zip(exporters, work, strict=True)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert rx.flush(10)
    finally:
        rx.stop()
    total = BATCH * batches_per_exporter * len(exporters)
    assert results == [SpanExportResult.SUCCESS] * (batches_per_exporter * len(exporters))
    snap = rx.stats.snapshot()
    assert snap["refused"]["traces"] > 0, "the queue never filled: the test did not exercise back-pressure"
    assert snap["accepted"]["traces"] == total
    assert int(store.command("SELECT count() FROM otel_traces")) == total
    assert int(store.command("SELECT uniqExact(SpanId) FROM otel_traces")) == total


# --- SIGTERM --------------------------------------------------------------------------------------


def _request(seed: int, n: int) -> tuple[bytes, list[str]]:
    spans = [
        trace_pb2.Span(
            trace_id=seed.to_bytes(16, "big"),
            span_id=(seed * 1000 + i + 1).to_bytes(8, "big"),
            name="load",
            start_time_unix_nano=1_763_000_000_000_000_000,
            end_time_unix_nano=1_763_000_000_000_001_000,
        )
        for i in range(n)
    ]
    req = trace_service_pb2.ExportTraceServiceRequest(
        resource_spans=[trace_pb2.ResourceSpans(scope_spans=[trace_pb2.ScopeSpans(spans=spans)])]
    )
    return req.SerializeToString(), [s.span_id.hex() for s in spans]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("OTEL_IMPACT_RECEIVER_AUTH_TOKEN", None)
    return env


def test_sigterm_during_load_keeps_every_acknowledged_span(tmp_path: Path) -> None:
    db = tmp_path / "db"
    proc = subprocess.Popen(
        [sys.executable, "-c", "from otel_impact.cli import main; main()", "collect", "--dsn", f"chdb://{db}",
         "--http", "127.0.0.1:0", "--grpc", "off", "--flush-interval", "0.02"],
        stderr=subprocess.PIPE, text=True, env=_env(), cwd=tmp_path,
    )  # fmt: skip
    assert proc.stderr is not None
    port = None
    deadline = time.monotonic() + 60
    while port is None and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        if match:
            port = int(match.group(1))
    assert port is not None, f"collect did not start (exit {proc.poll()})"

    acked: list[str] = []
    sent: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(worker: int) -> None:
        seq = 0
        while not stop.is_set():
            seq += 1
            body, ids = _request(worker * 100_000 + seq, 50)
            with lock:
                sent.extend(ids)
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request(
                    "POST", "/v1/traces", body=body, headers={"Content-Type": "application/x-protobuf"}
                )
                status = conn.getresponse().status
                conn.close()
            except OSError:
                return  # listener closed: the receiver is stopping
            if status == 200:
                with lock:
                    acked.extend(ids)

    threads = [threading.Thread(target=client, args=(w,)) for w in range(1, 4)]
    for t in threads:
        t.start()
    while len(acked) < 1000 and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    try:
        assert proc.wait(60) == 0
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    tail = proc.stderr.read()
    assert "stopped" in tail
    assert len(acked) >= 1000

    reader = subprocess.run(
        [sys.executable, "-c",
         "import json, sys; from otel_impact.store import connect;"
         "c = connect(sys.argv[1], database='default');"
         "print(json.dumps([r[0] for r in c.query('SELECT SpanId FROM otel_traces').result_rows]))",
         f"chdb://{db}"],
        capture_output=True, text=True, env=_env(), cwd=tmp_path, timeout=120, check=True,
    )  # fmt: skip
    stored = json.loads(reader.stdout.strip().splitlines()[-1])
    assert len(stored) == len(set(stored)), "duplicated spans"
    assert set(acked) <= set(stored), f"{len(set(acked) - set(stored))} acknowledged spans lost"
    assert set(stored) <= set(sent)
