"""OTLP/gRPC front end: the Trace, Metrics and Logs services from ``opentelemetry-proto``.

Each ``Export`` call runs in a worker thread of grpc's pool and blocks until its request is
written, like the HTTP handlers. Status mapping: UNAUTHENTICATED without the bearer token
(metadata ``authorization: Bearer …``), INVALID_ARGUMENT for unusable input, UNAVAILABLE with a
``google.rpc.RetryInfo`` trailer when the queue is full, the store fails or the receiver stops —
OTLP exporters retry UNAVAILABLE. The receive limit is raised to the HTTP body limit (64 MiB
by default) instead of grpc's 4 MiB.
"""

from __future__ import annotations

import logging
from concurrent import futures
from typing import Any

import grpc
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

from otel_impact.receive import protocol
from otel_impact.receive.batcher import Closed, QueueFull, WriteFailed
from otel_impact.receive.ingest import Ingest
from otel_impact.receive.protocol import BadRequest, Signal

log = logging.getLogger(__name__)
_RETRY_INFO_KEY = "google.rpc.retryinfo-bin"


class _ExportServicer:
    """One servicer class serves all three services; ``signal`` selects the table family."""

    def __init__(self, ingest: Ingest, signal: Signal, retry_after: float) -> None:
        self._ingest = ingest
        self._signal = signal
        info = error_details_pb2.RetryInfo(
            retry_delay=duration_pb2.Duration(seconds=int(retry_after), nanos=int((retry_after % 1) * 1e9))
        )
        self._retry_trailer = ((_RETRY_INFO_KEY, info.SerializeToString()),)

    def Export(self, request: Any, context: grpc.ServicerContext) -> Any:
        ingest = self._ingest
        if ingest.auth_required:
            header = next(
                (str(v) for k, v in context.invocation_metadata() if k.lower() == "authorization"), None
            )
            if not ingest.authorized(header):
                context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or invalid bearer token")
        try:
            outcome = ingest.export(self._signal, request)
        except BadRequest as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, exc.message)
        except (QueueFull, Closed, WriteFailed) as exc:
            context.set_trailing_metadata(self._retry_trailer)
            context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
        except Exception as exc:
            log.exception("unexpected error in gRPC %s export", self._signal)
            context.abort(grpc.StatusCode.INTERNAL, f"internal error: {type(exc).__name__}")
        return protocol.export_response(self._signal, outcome)


def build_server(
    ingest: Ingest,
    address: str,
    *,
    max_message: int = protocol.DEFAULT_MAX_BODY,
    retry_after: float = 1.0,
    credentials: grpc.ServerCredentials | None = None,
    max_workers: int = 16,
) -> tuple[grpc.Server, int]:
    """A started-ready (not yet started) gRPC server bound to ``address``; returns it and the port."""
    options = [
        ("grpc.max_receive_message_length", max_message),
        ("grpc.max_send_message_length", max_message),
        ("grpc.so_reuseport", 0),
    ]
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="otel-impact-grpc"),
        options=options,
    )
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(
        _ExportServicer(ingest, Signal.TRACES, retry_after), server
    )
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(
        _ExportServicer(ingest, Signal.METRICS, retry_after), server
    )
    logs_service_pb2_grpc.add_LogsServiceServicer_to_server(
        _ExportServicer(ingest, Signal.LOGS, retry_after), server
    )
    if credentials is not None:
        port = server.add_secure_port(address, credentials)
    else:
        port = server.add_insecure_port(address)
    if port == 0:
        raise OSError(f"cannot bind gRPC to {address}")
    return server, port
