"""Receiver throughput: spans/s over OTLP/HTTP protobuf into chDB, engine vs Python span conversion.

Four client processes post pre-encoded ``ExportTraceServiceRequest`` bodies (keep-alive
connections) to an in-process :class:`~otel_impact.receive.Receiver` writing to a fresh embedded
chDB directory; the clock runs from the first post until every request is acknowledged (which,
by the receiver's guarantee, means written). Arms, all in one run and process, each into its own
fresh database:

* ``rx engine``: the receiver as shipped — trace requests handed to chDB encoded, parsed and
  converted by the engine (``otel_impact.store.otlp_input``, ``sql/traces_from_otlp.sql``);
* ``rx python``: the same receiver with the Python conversion (``store_sink(client,
  encoded_traces=False)``: ``store/columns.py`` + Native serialization), i.e. the previous path;
* ``direct python`` / ``direct engine``: the same requests written straight through
  ``write_traces`` / ``write_encoded_traces`` in ``--batch-items`` batches (no HTTP, no queue);
* ``pipelined``: every decoded request queued at once into the receiver's batch writer with the
  store sink (full batches, no HTTP) — the write path's own ceiling.

The receiver arms alternate (``--rounds``) because the machine is shared and its load drifts.
Each arm reports wall spans/s and this process's CPU time per span (all threads, chDB's
included; the client processes are not counted) — the steadier figure on a loaded machine — and
the receiver arms their peak RSS. Row counts are checked equal to the spans sent in every arm.

    .venv/bin/python benchmarks/receive.py                      # 200 requests x 1000 spans, 2 rounds
    .venv/bin/python benchmarks/receive.py --requests 400 --spans 500 --clients 8
    .venv/bin/python benchmarks/receive.py --sink null          # transport only, no store
    .venv/bin/python benchmarks/receive.py --requests 24 --batch-sweep 1,2,3,4,6,12   # break-even
    .venv/bin/python benchmarks/receive.py --index-kind text    # the exporter's text indexes
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing as mp
import random
import resource
import tempfile
import threading
import time
from typing import Any

from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.resource.v1 import resource_pb2
from opentelemetry.proto.trace.v1 import trace_pb2


def _kv(key: str, value: Any) -> common_pb2.KeyValue:
    if isinstance(value, str):
        v = common_pb2.AnyValue(string_value=value)
    elif isinstance(value, float):
        v = common_pb2.AnyValue(double_value=value)
    else:
        v = common_pb2.AnyValue(int_value=value)
    return common_pb2.KeyValue(key=key, value=v)


def make_request(seed: int, spans: int) -> bytes:
    """One request of ``spans`` prediction-like spans (8 attributes, 1 event)."""
    rng = random.Random(seed)
    t0 = 1_763_000_000_000_000_000 + seed * 1_000_000_000
    out = []
    for i in range(spans):
        start = t0 + i * 1_000_000
        out.append(
            trace_pb2.Span(
                trace_id=rng.randbytes(16),
                span_id=rng.randbytes(8),
                parent_span_id=rng.randbytes(8) if i % 2 else b"",
                name="predict churn",
                kind=trace_pb2.Span.SPAN_KIND_INTERNAL,
                start_time_unix_nano=start,
                end_time_unix_nano=start + rng.randint(100_000, 5_000_000),
                attributes=[
                    _kv("ml.model.name", "churn"),
                    _kv("ml.model.version", "v7"),
                    _kv("ml.prediction.id", f"p-{seed}-{i}"),
                    _kv("ml.prediction.score", rng.random()),
                    _kv("user.id", f"u{rng.randint(1, 50_000)}"),
                    _kv("session.id", f"s{rng.randint(1, 200_000)}"),
                    _kv("ml.segment.platform", rng.choice(["web", "ios", "android"])),
                    _kv("ml.features.count", 42),
                ],
                events=[trace_pb2.Span.Event(time_unix_nano=start + 50_000, name="scored")],
                status=trace_pb2.Status(code=trace_pb2.Status.STATUS_CODE_OK),
            )
        )
    resource = resource_pb2.Resource(attributes=[_kv("service.name", "recommender"), _kv("host.name", "h1")])
    req = trace_service_pb2.ExportTraceServiceRequest(
        resource_spans=[
            trace_pb2.ResourceSpans(
                resource=resource,
                scope_spans=[
                    trace_pb2.ScopeSpans(
                        scope=common_pb2.InstrumentationScope(name="otel_impact", version="0.1"), spans=out
                    )
                ],
            )
        ]
    )
    return req.SerializeToString()


def _client(port: int, bodies: list[bytes], start: Any, results: Any) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    start.wait()
    retries = 0
    for body in bodies:
        while True:
            conn.request("POST", "/v1/traces", body=body, headers={"Content-Type": "application/x-protobuf"})
            resp = conn.getresponse()
            resp.read()
            if resp.status == 200:
                break
            retries += 1
            time.sleep(float(resp.getheader("Retry-After") or 1))
    conn.close()
    results.put(retries)


class RssSampler:
    """Highest resident set size of this process seen while the block runs (sampled every 20 ms)."""

    def __init__(self) -> None:
        import psutil

        self._proc = psutil.Process()
        self.start = self.peak = self._proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self._proc.memory_info().rss)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_receiver(sink: Any, bodies: list[bytes], clients: int, **options: Any) -> tuple[float, int]:
    from otel_impact.receive import Receiver

    ctx = mp.get_context("fork")
    with Receiver(sink=sink, http="127.0.0.1:0", grpc=None, **options) as rx:
        port = rx.endpoints.http_port
        assert port is not None
        start, results = ctx.Event(), ctx.Queue()
        procs = [
            ctx.Process(target=_client, args=(port, bodies[i::clients], start, results))
            for i in range(clients)
        ]
        for p in procs:
            p.start()
        time.sleep(0.5)  # processes connected and waiting
        t0 = time.perf_counter()
        start.set()
        retries = sum(results.get() for _ in procs)
        elapsed = time.perf_counter() - t0
        for p in procs:
            p.join()
    return elapsed, retries


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--spans", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--sink", choices=["store", "null"], default="store")
    parser.add_argument("--batch-items", type=int, default=50_000)
    parser.add_argument("--index-kind", choices=["default", "text", "bloom"], default="default")
    parser.add_argument("--rounds", type=int, default=2, help="receiver arms alternate this many times")
    parser.add_argument(
        "--batch-sweep",
        type=lambda text: [int(x) for x in text.split(",")],
        default=None,
        help="only the direct arms, at these requests per insert (e.g. 1,2,3,4,6): the break-even batch size",
    )
    parser.add_argument(
        "--engine-min-spans",
        type=int,
        default=None,
        help="engine conversion from this batch size (default: the sink's)",
    )
    args = parser.parse_args()

    bodies = [make_request(i, args.spans) for i in range(args.requests)]
    total = args.requests * args.spans
    mb = sum(map(len, bodies)) / 1e6
    print(
        f"{args.requests} requests x {args.spans} spans = {total} spans, {mb:.1f} MB protobuf, {args.clients} clients"
    )

    if args.sink == "null":
        with RssSampler() as rss:
            elapsed, retries = run_receiver(
                lambda s, r: len(r), bodies, args.clients, max_batch_items=args.batch_items
            )
        print(f"receiver (null sink): {total / elapsed:,.0f} spans/s ({elapsed:.2f} s, {retries} retries)")
        print(f"RSS during the run: {rss.start / 2**20:.0f} MiB at start, peak {rss.peak / 2**20:.0f} MiB")
        return

    from otel_impact.receive.batcher import BatchWriter
    from otel_impact.receive.ingest import TraceRequest, store_sink
    from otel_impact.receive.protocol import Signal
    from otel_impact.store import apply_schema, connect
    from otel_impact.store.writers import write_encoded_traces, write_traces

    tmp = tempfile.mkdtemp(prefix="otel-impact-bench-")
    client = connect(f"chdb://{tmp}")
    text_indexes = None if args.index_kind == "default" else args.index_kind == "text"
    databases = iter(f"bench_{i}" for i in range(100))
    per_batch = max(1, args.batch_items // args.spans)

    def fresh() -> str:
        name = next(databases)
        apply_schema(client, database=name, text_indexes=text_indexes)
        client.database = name
        return name

    def check(label: str) -> None:
        rows = int(client.command("SELECT count() FROM otel_traces"))
        assert rows == total, f"{label} wrote {rows} rows, expected {total}"

    def report(label: str, seconds: float, cpu: float, extra: str = "") -> None:
        print(
            f"{label:22s} {total / seconds:9,.0f} spans/s ({seconds:6.2f} s; {cpu / total * 1e6:5.1f} µs CPU/span){extra}",
            flush=True,
        )

    def direct(engine: bool) -> None:
        """The same requests written straight to the store in --batch-items batches."""
        fresh()
        t0, c0 = time.perf_counter(), time.process_time()
        if engine:
            for i in range(0, len(bodies), per_batch):
                write_encoded_traces(
                    client, bodies[i : i + per_batch], len(bodies[i : i + per_batch]) * args.spans
                )
        else:
            decoded = [trace_service_pb2.ExportTraceServiceRequest.FromString(b) for b in bodies]
            for i in range(0, len(decoded), per_batch):
                write_traces(client, decoded[i : i + per_batch])
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        check("direct")
        report(
            f"direct {'engine' if engine else 'python'}", seconds, cpu, f"; batches of {per_batch} requests"
        )

    def receiver(engine: bool) -> None:
        fresh()
        c0 = time.process_time()
        tuning = {} if args.engine_min_spans is None else {"engine_min_spans": args.engine_min_spans}
        sink = store_sink(client, encoded_traces=engine, **tuning)
        with RssSampler() as rss:
            seconds, retries = run_receiver(sink, bodies, args.clients, max_batch_items=args.batch_items)
        cpu = time.process_time() - c0
        check("receiver")
        converted = getattr(sink, "spans_converted", {})
        report(
            f"rx {'engine' if engine else 'python'}",
            seconds,
            cpu,
            f"; {retries} retries; RSS {rss.start / 2**20:.0f} → peak {rss.peak / 2**20:.0f} MiB; "
            f"spans converted by the engine {converted.get('engine', 0) / total:.0%}",
        )

    def pipelined() -> None:
        """The receiver's write path without HTTP: every request queued at once."""
        fresh()
        t0, c0 = time.perf_counter(), time.process_time()
        writer = BatchWriter(
            store_sink(client), max_batch_items=args.batch_items, max_queue_items=total, max_queue_bytes=2**40
        )
        writer.start()
        requests = [
            TraceRequest(trace_service_pb2.ExportTraceServiceRequest.FromString(b), args.spans, b)
            for b in bodies
        ]
        tickets = [writer.submit(Signal.TRACES, r, args.spans) for r in requests]
        for ticket in tickets:
            ticket.wait()
        writer.close()
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        check("pipelined")
        report("pipelined engine", seconds, cpu, f"; batches up to {args.batch_items} spans")

    if args.batch_sweep:
        for requests_per_batch in args.batch_sweep:
            per_batch = requests_per_batch
            for engine in (False, True):
                direct(engine)
        return
    direct(engine=False)
    direct(engine=True)
    for _ in range(args.rounds):
        receiver(engine=True)
        receiver(engine=False)
    pipelined()
    print(
        f"process high-water mark {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB "
        f"(includes {mb:.0f} MB of request bodies and the clients' fork)"
    )


if __name__ == "__main__":
    main()
