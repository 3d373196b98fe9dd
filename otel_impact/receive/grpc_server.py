"""OTLP/gRPC front end: the Trace, Metrics and Logs services of ``opentelemetry-proto``.

Each ``Export`` call runs in a worker thread of grpc's pool and blocks until its request is
written, like the HTTP handlers. The methods are registered by hand with a streaming request
side and no deserializer, which lets the handler act before the message is read:

* the bearer token (metadata ``authorization: Bearer …``) is checked first — an unauthenticated
  call is refused with UNAUTHENTICATED without its message ever being received;
* the message's bytes and their parse are reserved in the writer's byte budget before parsing
  (UNAVAILABLE + retry delay when it is exhausted);
* a malformed protobuf is INVALID_ARGUMENT (grpc's own deserializer would answer INTERNAL), as
  is a request the store cannot hold.

UNAVAILABLE carries a ``google.rpc.RetryInfo`` trailer when the queue is full, the store fails
or the receiver stops — OTLP exporters retry it. The receive limit is raised to the HTTP body
limit (64 MiB by default) instead of grpc's 4 MiB. Stopping cancels calls whose message has not
arrived yet; calls already taken are written and answered.
"""

from __future__ import annotations

import logging
import threading
from concurrent import futures
from typing import Any

import grpc
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from otel_impact.receive import protocol
from otel_impact.receive.batcher import Closed, QueueFull, Unstorable, WriteFailed
from otel_impact.receive.ingest import Ingest
from otel_impact.receive.protocol import BadRequest, Signal

log = logging.getLogger(__name__)
_RETRY_INFO_KEY = "google.rpc.retryinfo-bin"
_SERVICES = {
    Signal.TRACES: trace_service_pb2.DESCRIPTOR.services_by_name["TraceService"].full_name,
    Signal.METRICS: metrics_service_pb2.DESCRIPTOR.services_by_name["MetricsService"].full_name,
    Signal.LOGS: logs_service_pb2.DESCRIPTOR.services_by_name["LogsService"].full_name,
}
_PARSE_FACTOR = 5  # memory of a parsed message per wire byte (measured ~4.2), see http_server


class Calls:
    """Calls still waiting for their message, so that stopping can cancel them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._receiving: set[Any] = set()
        self.stopping = False

    def receiving(self, context: Any) -> bool:
        with self._lock:
            if self.stopping:
                return False
            self._receiving.add(context)
            return True

    def received(self, context: Any) -> None:
        with self._lock:
            self._receiving.discard(context)

    def interrupt(self) -> None:
        with self._lock:
            self.stopping = True
            waiting = list(self._receiving)
        for context in waiting:
            context.cancel()


class _ExportServicer:
    """``Export`` of one signal's service, taking the request as raw bytes."""

    def __init__(self, ingest: Ingest, signal: Signal, retry_after: float, calls: Calls) -> None:
        self._ingest = ingest
        self._signal = signal
        self._calls = calls
        info = error_details_pb2.RetryInfo(
            retry_delay=duration_pb2.Duration(seconds=int(retry_after), nanos=int((retry_after % 1) * 1e9))
        )
        self._retry_trailer = ((_RETRY_INFO_KEY, info.SerializeToString()),)

    def _unavailable(self, context: grpc.ServicerContext, message: str) -> None:
        context.set_trailing_metadata(self._retry_trailer)
        context.abort(grpc.StatusCode.UNAVAILABLE, message)

    def export(self, messages: Any, context: grpc.ServicerContext) -> Any:
        ingest = self._ingest
        if ingest.auth_required:
            header = next(
                (str(v) for k, v in context.invocation_metadata() if k.lower() == "authorization"), None
            )
            if not ingest.authorized(header):
                context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or invalid bearer token")
        if not self._calls.receiving(context):
            self._unavailable(context, "receiver is shutting down")
        try:
            raw = next(messages, None)
        finally:
            self._calls.received(context)
        if raw is None:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "no request message")
        assert isinstance(raw, bytes)  # abort() raised otherwise
        reservation = None
        try:
            reservation = ingest.writer.budget.reserve((1 + _PARSE_FACTOR) * len(raw))
            request = protocol.parse_body(self._signal, raw, protocol.PROTOBUF)
            del raw
            reservation.resize(_PARSE_FACTOR * request.ByteSize())
            held, reservation = reservation, None  # export owns it now
            outcome = ingest.export(self._signal, request, held)
        except (BadRequest, Unstorable) as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except (QueueFull, Closed, WriteFailed) as exc:
            self._unavailable(context, str(exc))
        except Exception as exc:
            log.exception("unexpected error in gRPC %s export", self._signal)
            context.abort(grpc.StatusCode.INTERNAL, f"internal error: {type(exc).__name__}")
        finally:
            if reservation is not None:
                reservation.release()
        return protocol.export_response(self._signal, outcome)


def build_server(
    ingest: Ingest,
    address: str,
    *,
    max_message: int = protocol.DEFAULT_MAX_BODY,
    retry_after: float = 1.0,
    credentials: grpc.ServerCredentials | None = None,
    max_workers: int = 16,
    calls: Calls | None = None,
) -> tuple[grpc.Server, int]:
    """A ready (not yet started) gRPC server bound to ``address``; returns it and the port."""
    options = [
        ("grpc.max_receive_message_length", max_message),
        ("grpc.max_send_message_length", max_message),
        ("grpc.so_reuseport", 0),
    ]
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="otel-impact-grpc"),
        options=options,
    )
    calls = calls or Calls()
    handlers = []
    for signal, service in _SERVICES.items():
        servicer = _ExportServicer(ingest, signal, retry_after, calls)
        method = grpc.stream_unary_rpc_method_handler(
            servicer.export, request_deserializer=None, response_serializer=_serialize
        )
        handlers.append(grpc.method_handlers_generic_handler(service, {"Export": method}))
    server.add_generic_rpc_handlers(tuple(handlers))
    if credentials is not None:
        port = server.add_secure_port(address, credentials)
    else:
        port = server.add_insecure_port(address)
    if port == 0:
        raise OSError(f"cannot bind gRPC to {address}")
    return server, port


def _serialize(message: Any) -> bytes:
    return bytes(message.SerializeToString())
