"""The embedded OTLP receiver: HTTP + gRPC front ends, one batching writer, one store client.

Use it in-process (the demo does) or through ``otel-impact collect``::

    from otel_impact.receive import Receiver
    from otel_impact.store import apply_schema, connect

    client = connect("chdb:///tmp/otel-impact-db")
    apply_schema(client)
    with Receiver(client, http="127.0.0.1:0", grpc="127.0.0.1:0") as rx:
        print(rx.endpoints.http, rx.endpoints.grpc)   # http://127.0.0.1:<port>, 127.0.0.1:<port>
        ...                                           # point OTLP exporters there
        rx.flush()                                     # everything accepted is now written

Guarantee: a request is acknowledged (HTTP 200 / gRPC OK) only after its rows are written; a
full queue answers 429 / UNAVAILABLE with a retry delay; items the store cannot hold are
rejected one by one through ``partial_success`` and never fail their neighbours;
``stop(drain=True)`` (and leaving the ``with`` block) stops listening, cuts connections that
are idle or still sending, writes everything already accepted, answers it, then returns.
Memory: request bodies, inflated and parsed, are held within ``max_queue_bytes`` from their
first byte until written (see ``docs/receiver.md``).
"""

from __future__ import annotations

import dataclasses
import logging
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from otel_impact.errors import ReceiverError
from otel_impact.receive import protocol
from otel_impact.receive.admission import DEFAULT_MAX_PARTITIONS, Limits
from otel_impact.receive.batcher import BatchWriter, Sink
from otel_impact.receive.ingest import Ingest, store_sink
from otel_impact.receive.protocol import Signal
from otel_impact.receive.telemetry import ReceiverStats

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Endpoints:
    """Where a started receiver listens (None for a disabled protocol)."""

    http: str | None  # base URL, e.g. "http://127.0.0.1:4318"
    grpc: str | None  # "host:port" as gRPC clients want it
    http_port: int | None
    grpc_port: int | None


def parse_address(value: str, name: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port``; empty host = all interfaces) → (host, port)."""
    host, sep, port = value.rpartition(":")
    if not sep:
        raise ReceiverError(f"{name}: expected host:port, got {value!r}")
    host = host.strip("[]")
    try:
        number = int(port)
    except ValueError:
        raise ReceiverError(f"{name}: port must be a number, got {port!r}") from None
    if not 0 <= number <= 65535:
        raise ReceiverError(f"{name}: port out of range: {number}")
    return host, number


class Receiver:
    """Embedded OTLP receiver writing the Collector exporter layout (see module docstring).

    ``client`` is a clickhouse-connect client whose current database holds the schema; it is
    used only by the writer thread. Pass ``sink`` instead to write elsewhere (tests, benchmarks).
    ``http`` / ``grpc``: ``host:port`` to listen on (port 0 picks a free port), None to disable.
    """

    def __init__(
        self,
        client: Any | None = None,
        *,
        http: str | None = "127.0.0.1:4318",
        grpc: str | None = "127.0.0.1:4317",
        sink: Sink | None = None,
        auth_token: str | None = None,
        tls_cert: str | Path | None = None,
        tls_key: str | Path | None = None,
        max_body: int = protocol.DEFAULT_MAX_BODY,
        max_queue_items: int = 200_000,
        max_batch_items: int = 50_000,
        max_queue_bytes: int = 256 * 1024 * 1024,
        max_connections: int = 256,
        max_days_per_request: int = DEFAULT_MAX_PARTITIONS,
        flush_interval: float = 0.005,
        write_retries: int = 5,
        retry_after: int = 1,
        meter_provider: Any | None = None,
    ) -> None:
        if (client is None) == (sink is None):
            raise ValueError("give exactly one of client or sink")
        if (tls_cert is None) != (tls_key is None):
            raise ValueError("tls_cert and tls_key must be given together")
        if max_body < 1:
            raise ValueError(f"max_body must be >= 1, got {max_body}")
        if retry_after < 0:
            raise ValueError(f"retry_after must be >= 0, got {retry_after}")
        if max_connections < 1:
            raise ValueError(f"max_connections must be >= 1, got {max_connections}")
        if not 1 <= max_days_per_request <= DEFAULT_MAX_PARTITIONS:
            raise ValueError(
                f"max_days_per_request must be in 1..{DEFAULT_MAX_PARTITIONS}, got {max_days_per_request}"
            )
        self.stats = ReceiverStats(meter_provider)
        sink = sink if sink is not None else store_sink(client)
        self._writer = BatchWriter(
            sink,
            max_queue_items=max_queue_items,
            max_batch_items=max_batch_items,
            max_queue_bytes=max_queue_bytes,
            flush_interval=flush_interval,
            max_partitions=max_days_per_request,
            retries=write_retries,
            listener=self._on_written,
        )
        limits = getattr(sink, "limits", None)
        limits = limits if isinstance(limits, Limits) else Limits()
        self._ingest = Ingest(
            self._writer,
            self.stats,
            auth_token,
            dataclasses.replace(limits, max_partitions=max_days_per_request),
            encoded_traces=getattr(sink, "encoded_traces", False) is True,
        )
        self._http_address = parse_address(http, "http") if http else None
        self._grpc_address = grpc
        if grpc:
            parse_address(grpc, "grpc")
        self._tls = (Path(tls_cert), Path(tls_key)) if tls_cert and tls_key else None
        self._max_body = max_body
        self._max_connections = max_connections
        self._retry_after = retry_after
        self._http_server: Any = None
        self._http_thread: threading.Thread | None = None
        self._grpc_server: Any = None
        self._grpc_calls: Any = None
        self._endpoints: Endpoints | None = None
        self._lock = threading.Lock()

    # --- lifecycle --------------------------------------------------------------------------
    @property
    def endpoints(self) -> Endpoints:
        if self._endpoints is None:
            raise ReceiverError("receiver not started")
        return self._endpoints

    def start(self) -> Endpoints:
        """Start the writer and bind the listeners; return where they listen."""
        with self._lock:
            if self._endpoints is not None:
                return self._endpoints
            self._writer.start()
            try:
                http_url, http_port = self._start_http()
                grpc_target, grpc_port = self._start_grpc()
            except BaseException:
                self._shutdown_listeners()
                self._writer.close(drain=False)
                raise
            self._endpoints = Endpoints(http_url, grpc_target, http_port, grpc_port)
            log.info("receiving OTLP on %s", ", ".join(filter(None, (http_url, grpc_target))))
            return self._endpoints

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything accepted so far is written; False if ``timeout`` ran out."""
        return self._writer.flush(timeout)

    def stop(self, drain: bool = True, timeout: float = 30.0) -> None:
        """Stop listening; with ``drain`` write everything accepted, else refuse what is queued."""
        with self._lock:
            if self._endpoints is None:
                self._writer.close(drain=drain, timeout=timeout)
                return
            grpc_done = self._shutdown_listeners(grace=timeout)
            self._writer.close(drain=drain, timeout=timeout)
            if grpc_done is not None:
                grpc_done.wait(timeout)
            if self._http_server is not None:
                self._http_server.wait_idle(timeout)
                self._http_server = None
            self._endpoints = None

    def __enter__(self) -> Receiver:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop(drain=True)

    # --- internals --------------------------------------------------------------------------
    def _on_written(self, signal: Signal, items: int, ok: bool) -> None:
        self.stats.add("accepted" if ok else "failed", signal, items)

    def _ssl_context(self) -> ssl.SSLContext | None:
        if self._tls is None:
            return None
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            ctx.load_cert_chain(str(self._tls[0]), str(self._tls[1]))
        except (OSError, ssl.SSLError) as exc:
            raise ReceiverError(f"cannot load TLS certificate/key: {exc}") from exc
        return ctx

    def _start_http(self) -> tuple[str | None, int | None]:
        if self._http_address is None:
            return None, None
        from otel_impact.receive.http_server import OTLPHTTPServer

        try:
            server = OTLPHTTPServer(
                self._http_address,
                self._ingest,
                max_body=self._max_body,
                retry_after=self._retry_after,
                ssl_context=self._ssl_context(),
                max_connections=self._max_connections,
            )
        except OSError as exc:
            raise ReceiverError(f"cannot listen for OTLP/HTTP on {self._http_address}: {exc}") from exc
        self._http_server = server
        self._http_thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="otel-impact-http", daemon=True
        )
        self._http_thread.start()
        host, port = str(server.server_address[0]), int(server.server_address[1])
        scheme = "https" if self._tls else "http"
        shown = f"[{host}]" if ":" in host else host
        return f"{scheme}://{shown}:{port}", int(port)

    def _start_grpc(self) -> tuple[str | None, int | None]:
        if not self._grpc_address:
            return None, None
        import grpc

        from otel_impact.receive.grpc_server import Calls, build_server

        credentials = None
        if self._tls is not None:
            try:
                credentials = grpc.ssl_server_credentials(
                    [(self._tls[1].read_bytes(), self._tls[0].read_bytes())]
                )
            except OSError as exc:
                raise ReceiverError(f"cannot read TLS certificate/key: {exc}") from exc
        self._grpc_calls = Calls()
        try:
            server, port = build_server(
                self._ingest,
                self._grpc_address,
                max_message=self._max_body,
                retry_after=float(self._retry_after),
                credentials=credentials,
                calls=self._grpc_calls,
            )
        except (OSError, RuntimeError) as exc:
            raise ReceiverError(f"cannot listen for OTLP/gRPC on {self._grpc_address}: {exc}") from exc
        server.start()
        self._grpc_server = server
        host = self._grpc_address.rpartition(":")[0]
        return f"{host}:{port}", port

    def _shutdown_listeners(self, grace: float = 0.0) -> threading.Event | None:
        """Stop accepting; cut connections and calls still sending a request (not taken yet)."""
        done = None
        if self._grpc_server is not None:
            done = self._grpc_server.stop(grace)
            self._grpc_server = None
            self._grpc_calls.interrupt()
        if self._http_server is not None:
            self._http_server.interrupt()
            self._http_server.shutdown()
            self._http_server.server_close()
            if self._http_thread is not None:
                self._http_thread.join()
                self._http_thread = None
        return done
