"""OTLP/HTTP front end on the standard library's threading HTTP server.

One thread per connection (HTTP/1.1 keep-alive), so a handler can simply block until its
request is written. Throughput comes from the batch writer, not the HTTP layer: with OTLP's
large bodies the server handles a few hundred requests per second at most, which a thread per
connection does comfortably on two cores (see ``benchmarks/receive.py``).

Routes: ``POST /v1/traces|metrics|logs`` (protobuf or JSON, gzip/deflate); ``GET /healthz``
(no auth) and ``GET /metrics`` (Prometheus text). Errors carry a ``google.rpc.Status`` body in
the request's content type: 400 malformed, 401 missing/wrong bearer token, 404 unknown path,
405 wrong method, 413 body over the limit (also after decompression), 415 unsupported content
type or encoding, 429 queue full and 503 store unavailable or shutting down (both with
``Retry-After``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from otel_impact.receive import protocol
from otel_impact.receive.batcher import Closed, QueueFull, WriteFailed
from otel_impact.receive.ingest import Ingest
from otel_impact.receive.protocol import BadRequest

log = logging.getLogger(__name__)

_DISCARD_LIMIT = 1 << 20  # unread bodies up to this size are drained to keep the connection
_IDLE_TIMEOUT = 60.0
_HEALTH = "/healthz"
_METRICS = "/metrics"


class OTLPHTTPServer(ThreadingHTTPServer):
    """Threading HTTP server carrying the receiver state; optional TLS per connection."""

    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default listen backlog of 5 resets connections when many exporters connect
    # at once; a deeper backlog lets them queue (back-pressure is the bounded ingest queue's job).
    request_queue_size = 256

    def __init__(
        self,
        address: tuple[str, int],
        ingest: Ingest,
        *,
        max_body: int = protocol.DEFAULT_MAX_BODY,
        retry_after: int = 1,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.ingest = ingest
        self.max_body = max_body
        self.retry_after = retry_after
        self.ssl_context = ssl_context
        self.active = 0
        self.active_cond = threading.Condition()
        super().__init__(address, _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        # Runs in the connection's own thread, so a slow TLS handshake blocks nobody else.
        if self.ssl_context is not None:
            try:
                request.settimeout(_IDLE_TIMEOUT)
                request = self.ssl_context.wrap_socket(request, server_side=True)
            except (OSError, ssl.SSLError) as exc:
                log.debug("TLS handshake with %s failed: %s", client_address, exc)
                return
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s ended with an error", client_address, exc_info=True)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no request is being handled (used when stopping)."""
        with self.active_cond:
            return self.active_cond.wait_for(lambda: self.active == 0, timeout)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: OTLPHTTPServer
    timeout = _IDLE_TIMEOUT
    server_version = "otel-impact"
    sys_version = ""

    # every method goes through one dispatcher so unknown methods get 405, not 501
    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_OPTIONS(self) -> None:
        self._dispatch("OPTIONS")

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    # --- dispatch ---------------------------------------------------------------------------
    def _dispatch(self, method: str) -> None:
        with self.server.active_cond:
            self.server.active += 1
        self._body_read = False
        self._ctype = protocol.media_type(self.headers.get("Content-Type")) or protocol.PROTOBUF
        try:
            self._route(method)
        except (ConnectionError, TimeoutError, ssl.SSLError):
            self.close_connection = True
        except Exception:
            log.exception("unexpected error handling %s %s", method, self.path)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self._error(500, protocol.GRPC_INTERNAL, "internal error")
        finally:
            with self.server.active_cond:
                self.server.active -= 1
                self.server.active_cond.notify_all()

    def _route(self, method: str) -> None:
        path = self.path.split("?", 1)[0]
        signal = protocol.SIGNAL_BY_PATH.get(path)
        if signal is None:
            if path in (_HEALTH, _METRICS):
                if method not in ("GET", "HEAD"):
                    return self._error(405, protocol.GRPC_UNIMPLEMENTED, f"{method} not allowed", "GET, HEAD")
                return self._observe(path, method)
            return self._error(404, protocol.GRPC_NOT_FOUND, f"no such path {path!r}")
        if method != "POST":
            return self._error(405, protocol.GRPC_UNIMPLEMENTED, f"{method} not allowed on {path}", "POST")
        ingest = self.server.ingest
        if not ingest.authorized(self.headers.get("Authorization")):
            return self._error(401, protocol.GRPC_UNAUTHENTICATED, "missing or invalid bearer token")
        try:
            ctype = protocol.media_type(self.headers.get("Content-Type"))
            if ctype is None:
                raise BadRequest(
                    f"unsupported Content-Type {self.headers.get('Content-Type')!r} "
                    f"(use {protocol.PROTOBUF} or {protocol.JSON})",
                    415,
                )
            raw = self._read_body()
            body = protocol.decompress(raw, self.headers.get("Content-Encoding"), self.server.max_body)
            request = protocol.parse_body(signal, body, ctype)
            outcome = ingest.export(signal, request)
        except BadRequest as exc:
            if exc.http_status == 413:
                self.close_connection = True
            return self._error(exc.http_status, protocol.GRPC_INVALID_ARGUMENT, exc.message)
        except QueueFull as exc:
            return self._error(429, protocol.GRPC_UNAVAILABLE, str(exc), retry=True)
        except (Closed, WriteFailed) as exc:
            return self._error(503, protocol.GRPC_UNAVAILABLE, f"store unavailable: {exc}", retry=True)
        response = protocol.export_response(signal, outcome)
        self._send(200, protocol.encode(response, self._ctype), self._ctype)

    # --- bodies -----------------------------------------------------------------------------
    def _read_body(self) -> bytes:
        limit = self.server.max_body
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked(limit)
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            raise BadRequest("Content-Length or chunked Transfer-Encoding required", 411)
        try:
            length = int(length_header)
        except ValueError as exc:
            raise BadRequest(f"bad Content-Length {length_header!r}") from exc
        if length < 0:
            raise BadRequest(f"bad Content-Length {length_header!r}")
        if length > limit:
            raise BadRequest(f"body of {length} bytes exceeds the {limit}-byte limit", 413)
        data = self.rfile.read(length)
        self._body_read = True
        if len(data) != length:
            self.close_connection = True
            raise ConnectionError("client closed the connection mid-body")
        return data

    def _read_chunked(self, limit: int) -> bytes:
        parts: list[bytes] = []
        size = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                n = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError as exc:
                self.close_connection = True
                raise BadRequest("malformed chunked body") from exc
            if n == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                break
            size += n
            if size > limit:
                raise BadRequest(f"body exceeds the {limit}-byte limit", 413)
            parts.append(self.rfile.read(n))
            self.rfile.readline(1024)
        self._body_read = True
        return b"".join(parts)

    def _discard_body(self) -> None:
        if self._body_read:
            return
        self._body_read = True
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if 0 <= length <= _DISCARD_LIMIT:
            if length:
                self.rfile.read(length)
        else:
            self.close_connection = True

    # --- responses --------------------------------------------------------------------------
    def _observe(self, path: str, method: str) -> None:
        if path == _METRICS and not self.server.ingest.authorized(self.headers.get("Authorization")):
            return self._error(401, protocol.GRPC_UNAUTHENTICATED, "missing or invalid bearer token")
        writer = self.server.ingest.writer
        if path == _HEALTH:
            body = json.dumps(
                {"status": "ok", "pending_items": writer.pending_items, **self.server.ingest.stats.snapshot()}
            ).encode()
            return self._send(200, body, "application/json", head=method == "HEAD")
        gauges = {
            "otel_impact_receiver_queue_items": float(writer.pending_items),
            "otel_impact_receiver_queue_capacity_items": float(writer.max_queue_items),
        }
        text = self.server.ingest.stats.prometheus_text(gauges).encode()
        return self._send(200, text, "text/plain; version=0.0.4", head=method == "HEAD")

    def _error(
        self, status: int, grpc_code: int, message: str, allow: str | None = None, retry: bool = False
    ) -> None:
        headers = {}
        if allow:
            headers["Allow"] = allow
        if retry:
            headers["Retry-After"] = str(self.server.retry_after)
        if status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="otel-impact"'
        self._discard_body()
        self._send(status, protocol.status_body(grpc_code, message, self._ctype), self._ctype, headers)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
        head: bool = False,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if not head:
            self.wfile.write(body)
