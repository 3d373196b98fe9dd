"""OTLP/HTTP front end on the standard library's threading HTTP server.

One thread per connection (HTTP/1.1 keep-alive), so a handler can simply block until its
request is written. Throughput comes from the batch writer, not the HTTP layer: with OTLP's
large bodies the server handles a few hundred requests per second at most, which a thread per
connection does comfortably on two cores (see ``benchmarks/receive.py``).

Bounds: at most ``max_connections`` connections (more are closed at once); bodies are read into
the writer's byte budget before they are kept (:mod:`.http_body`); the bearer token is checked
before any body byte is read. Each response goes out in one write with ``TCP_NODELAY`` (no
Nagle / delayed-ACK stall on keep-alive connections). Stopping closes connections that are idle
or still sending a request at once; requests already taken are written and answered.

Routes: ``POST /v1/traces|metrics|logs`` (protobuf or JSON, gzip/deflate); ``GET /healthz``
(no auth) and ``GET /metrics`` (Prometheus text). Errors carry a ``google.rpc.Status`` body in
the request's content type: 400 malformed (also: a request the store cannot hold, bisected out
of its batch; broken framing such as chunked + Content-Length, which also closes the
connection), 401 missing/wrong bearer token, 404 unknown path, 405 wrong or unknown method,
411 no length, 413 body over the limit (also after decompression), 415 unsupported content type
or encoding, 429 queue full (items or bytes) and 503 store unavailable or shutting down (both
with ``Retry-After``).
"""

from __future__ import annotations

import contextlib
import http
import json
import logging
import socket
import ssl
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from otel_impact.receive import protocol
from otel_impact.receive.batcher import Closed, QueueFull, Unstorable, WriteFailed
from otel_impact.receive.http_body import Framing, read_body
from otel_impact.receive.ingest import Ingest
from otel_impact.receive.protocol import BadRequest

log = logging.getLogger(__name__)

_DISCARD_LIMIT = 1 << 20  # unread bodies up to this size are drained to keep the connection
_IDLE_TIMEOUT = 60.0
_HEALTH = "/healthz"
_METRICS = "/metrics"
DEFAULT_MAX_CONNECTIONS = 256
# Memory a decoded body costs once parsed, per body byte (measured: protobuf messages hold ~4.2x
# their wire size; an OTLP/JSON tree and the message built from it, ~8x the JSON text).
_PARSE_FACTOR = {protocol.PROTOBUF: 5, protocol.JSON: 10}
_HELD_FACTOR = 5  # a parsed message while it waits to be written, per encoded protobuf byte

# connection states, for stopping: idle and reading connections are cut, busy ones are answered
_IDLE, _READING, _BUSY = "idle", "reading", "busy"


class OTLPHTTPServer(ThreadingHTTPServer):
    """Threading HTTP server carrying the receiver state; optional TLS per connection."""

    daemon_threads = True
    block_on_close = False  # stop() cuts or answers connections itself instead of joining threads
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
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
    ) -> None:
        if max_connections < 1:
            raise ValueError(f"max_connections must be >= 1, got {max_connections}")
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.ingest = ingest
        self.max_body = max_body
        self.retry_after = retry_after
        self.ssl_context = ssl_context
        self.max_connections = max_connections
        self.active = 0  # requests being handled
        self.active_cond = threading.Condition()
        self.stopping = False
        self._connections: dict[Any, str] = {}  # socket -> state, guarded by active_cond
        self._open = 0  # connections accepted and not yet closed
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.active_cond:
            refuse = self.stopping or self._open >= self.max_connections
            if not refuse:
                self._open += 1
        if refuse:
            log.debug("refusing connection from %s: %d open", client_address, self._open)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            with self.active_cond:
                self._open -= 1
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)  # type: ignore[misc]
        finally:
            with self.active_cond:
                self._open -= 1
                self._connections.pop(request, None)
                self.active_cond.notify_all()

    def set_state(self, sock: Any, state: str) -> bool:
        """Record a connection's state; False when stopping and the connection must close."""
        with self.active_cond:
            self._connections[sock] = state
            return not (self.stopping and state != _BUSY)

    def interrupt(self) -> None:
        """Stop taking requests: cut idle connections and those still sending a request."""
        with self.active_cond:
            self.stopping = True
            cut = [sock for sock, state in self._connections.items() if state != _BUSY]
        for sock in cut:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def finish_request(self, request: Any, client_address: Any) -> None:
        # Runs in the connection's own thread, so a slow TLS handshake blocks nobody else.
        with contextlib.suppress(OSError):  # one write per response; never wait for an ACK
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if not self.set_state(request, _IDLE):
            return
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

    # every method, known or not, goes through one dispatcher so unknown methods get 405, not 501
    def __getattr__(self, name: str) -> Callable[[], None]:
        if name.startswith("do_") and name[3:].isascii() and name[3:].isalpha():
            return lambda: self._dispatch(name[3:])
        raise AttributeError(name)

    def handle_one_request(self) -> None:
        if not self.server.set_state(self.request, _IDLE):
            self.close_connection = True
            return
        super().handle_one_request()

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        with self.server.active_cond:
            self.server._connections.pop(self.request, None)

    def handle_expect_100(self) -> bool:
        # refuse before the client sends the body, not after
        if protocol.SIGNAL_BY_PATH.get(self.path.split("?", 1)[0]) and not self.server.ingest.authorized(
            self.headers.get("Authorization")
        ):
            self._ctype = protocol.media_type(self.headers.get("Content-Type")) or protocol.PROTOBUF
            self._body_read = True
            self.close_connection = True
            self._error(401, protocol.GRPC_UNAUTHENTICATED, "missing or invalid bearer token")
            return False
        return super().handle_expect_100()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    # --- dispatch ---------------------------------------------------------------------------
    def _dispatch(self, method: str) -> None:
        with self.server.active_cond:
            self.server.active += 1
        self._body_read = False
        self._ctype = protocol.media_type(self.headers.get("Content-Type")) or protocol.PROTOBUF
        try:
            if self.server.set_state(self.request, _READING):
                self._route(method)
            else:
                self.close_connection = True
        except (ConnectionError, TimeoutError, ssl.SSLError, OSError):
            self.close_connection = True
        except Exception:
            log.exception("unexpected error handling %s request", method)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self._error(500, protocol.GRPC_INTERNAL, "internal error")
        finally:
            if self.server.stopping:
                self.close_connection = True
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
            return self._error(404, protocol.GRPC_NOT_FOUND, "no such path")
        if method != "POST":
            return self._error(405, protocol.GRPC_UNIMPLEMENTED, f"{method} not allowed on {path}", "POST")
        ingest = self.server.ingest
        if not ingest.authorized(self.headers.get("Authorization")):
            return self._error(401, protocol.GRPC_UNAUTHENTICATED, "missing or invalid bearer token")
        reservation = None
        mid_body = False
        try:
            ctype = protocol.media_type(self.headers.get("Content-Type"))
            if ctype is None:
                raise BadRequest(
                    f"unsupported Content-Type {self.headers.get('Content-Type', '')[:100]!r} "
                    f"(use {protocol.PROTOBUF} or {protocol.JSON})",
                    415,
                )
            reservation = ingest.writer.budget.reserve()
            self._body_read = True  # from here on a failure leaves the body half read: close
            mid_body = True
            body = read_body(
                self.rfile,
                self.headers.get,
                self.headers.get_all("Content-Length") or [],
                self.server.max_body,
                reservation,
            )
            mid_body = False
            if not self.server.set_state(self.request, _BUSY):
                raise Closed("receiver is shutting down")
            reservation.grow(_PARSE_FACTOR[ctype] * len(body))
            request = protocol.parse_body(signal, body, ctype)
            # a protobuf body is the message's encoding: its length spares a ByteSize() walk
            size = len(body) if ctype == protocol.PROTOBUF else request.ByteSize()
            # ... and it may be handed to the store as is (engine-side span conversion)
            raw = body if ctype == protocol.PROTOBUF and ingest.encoded_traces else None
            del body
            reservation.resize(_HELD_FACTOR * size + (len(raw) if raw is not None else 0))
            held, reservation = reservation, None  # export owns it now
            outcome = ingest.export(signal, request, held, raw)
        except BadRequest as exc:
            if mid_body or isinstance(exc, Framing) or exc.http_status == 413:
                self.close_connection = True
            return self._error(exc.http_status, protocol.GRPC_INVALID_ARGUMENT, exc.message)
        except Unstorable as exc:
            return self._error(400, protocol.GRPC_INVALID_ARGUMENT, str(exc))
        except QueueFull as exc:
            self.close_connection = self.close_connection or mid_body
            return self._error(429, protocol.GRPC_UNAVAILABLE, str(exc), retry=True)
        except (Closed, WriteFailed) as exc:
            return self._error(503, protocol.GRPC_UNAVAILABLE, f"store unavailable: {exc}", retry=True)
        finally:
            if reservation is not None:
                reservation.release()
        response = protocol.export_response(signal, outcome)
        self._send(200, protocol.encode(response, self._ctype), self._ctype)

    # --- bodies -----------------------------------------------------------------------------
    def _discard_body(self) -> None:
        """Drain a small unread body to keep the connection; otherwise mark it for closing."""
        if self._body_read:
            return
        self._body_read = True
        lengths = self.headers.get_all("Content-Length") or []
        if not lengths and not self.headers.get("Transfer-Encoding"):
            return  # no body
        if self.headers.get("Transfer-Encoding") or len(lengths) != 1:
            self.close_connection = True
            return
        text = lengths[0].strip()
        length = int(text) if text.isdigit() and text.isascii() else -1
        if 0 <= length <= _DISCARD_LIMIT:
            if length:
                self.rfile.read(length)
        else:
            self.close_connection = True

    # --- responses --------------------------------------------------------------------------
    def _observe(self, path: str, method: str) -> None:
        if path == _METRICS and not self.server.ingest.authorized(self.headers.get("Authorization")):
            return self._error(401, protocol.GRPC_UNAUTHENTICATED, "missing or invalid bearer token")
        self._discard_body()
        writer = self.server.ingest.writer
        if path == _HEALTH:
            body = json.dumps(
                {"status": "ok", "pending_items": writer.pending_items, **self.server.ingest.stats.snapshot()}
            ).encode()
            return self._send(200, body, "application/json", head=method == "HEAD")
        gauges = {
            "otel_impact_receiver_queue_items": float(writer.pending_items),
            "otel_impact_receiver_queue_capacity_items": float(writer.max_queue_items),
            "otel_impact_receiver_queue_bytes": float(writer.budget.used),
            "otel_impact_receiver_queue_capacity_bytes": float(writer.budget.limit),
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
        """Status line, headers and body in one write (two writes stall on Nagle/delayed ACK)."""
        self.log_request(status, len(body))
        lines = [
            f"{self.protocol_version} {status} {http.HTTPStatus(status).phrase}",
            f"Server: {self.server_version}",
            f"Date: {self.date_time_string()}",
            f"Content-Type: {content_type}",
            f"Content-Length: {len(body)}",
        ]
        lines.extend(f"{key}: {value}" for key, value in (headers or {}).items())
        if self.close_connection:
            lines.append("Connection: close")
        head_bytes = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head_bytes if head else head_bytes + body)
