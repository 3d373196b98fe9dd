"""OTLP wire handling shared by the HTTP and gRPC front ends: signals, decoding, responses.

Everything here is pure (bytes in, messages out) so both transports and the tests use one
implementation of the OTLP rules:

* bodies are ``application/x-protobuf`` or ``application/json`` (OTLP/JSON: trace and span ids
  are hex strings, not base64; enums may be integers; unknown fields are ignored);
* ``Content-Encoding`` ``gzip`` / ``deflate`` is undone incrementally with a hard cap, so a
  compression bomb costs at most ``limit`` bytes of memory;
* items the store cannot hold (ids of the wrong length, malformed hex ids in OTLP/JSON, times
  out of range) are rejected individually by :mod:`.admission` and reported back through
  ``partial_success`` instead of failing the whole request.

>>> req = parse_body(Signal.TRACES, b"{}", "application/json")
>>> count_items(Signal.TRACES, req)
0
"""

from __future__ import annotations

import base64
import enum
import json
import zlib
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from google.rpc import status_pb2
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
DEFAULT_MAX_BODY = 64 * 1024 * 1024

# gRPC status codes used in google.rpc.Status bodies (grpc/status.proto numbering).
GRPC_INVALID_ARGUMENT = 3
GRPC_RESOURCE_EXHAUSTED = 8
GRPC_UNAUTHENTICATED = 16
GRPC_UNAVAILABLE = 14
GRPC_UNIMPLEMENTED = 12
GRPC_NOT_FOUND = 5
GRPC_INTERNAL = 13


class Signal(enum.StrEnum):
    """The three OTLP signals, valued by their URL path segment."""

    TRACES = "traces"
    METRICS = "metrics"
    LOGS = "logs"

    @property
    def path(self) -> str:
        return f"/v1/{self.value}"

    @property
    def request_type(self) -> type[Message]:
        return _REQUEST[self]

    @property
    def response_type(self) -> type[Message]:
        return _RESPONSE[self]


_REQUEST: dict[Signal, type[Message]] = {
    Signal.TRACES: trace_service_pb2.ExportTraceServiceRequest,
    Signal.METRICS: metrics_service_pb2.ExportMetricsServiceRequest,
    Signal.LOGS: logs_service_pb2.ExportLogsServiceRequest,
}
_RESPONSE: dict[Signal, type[Message]] = {
    Signal.TRACES: trace_service_pb2.ExportTraceServiceResponse,
    Signal.METRICS: metrics_service_pb2.ExportMetricsServiceResponse,
    Signal.LOGS: logs_service_pb2.ExportLogsServiceResponse,
}
_REJECTED_FIELD = {
    Signal.TRACES: "rejected_spans",
    Signal.METRICS: "rejected_data_points",
    Signal.LOGS: "rejected_log_records",
}
SIGNAL_BY_PATH: dict[str, Signal] = {s.path: s for s in Signal}


class BadRequest(Exception):
    """The request cannot be accepted as sent; ``http_status`` says why (400, 413, 415)."""

    def __init__(self, message: str, http_status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status


# --- bodies ----------------------------------------------------------------------------------


def media_type(content_type: str | None) -> str | None:
    """``application/json`` or ``application/x-protobuf`` from a Content-Type header, else None."""
    if not content_type:
        return None
    base = content_type.split(";", 1)[0].strip().lower()
    if base in (PROTOBUF, JSON):
        return base
    return None


def decompress(body: bytes, encoding: str | None, limit: int = DEFAULT_MAX_BODY) -> bytes:
    """Undo ``Content-Encoding`` (identity, gzip, deflate) producing at most ``limit`` bytes.

    Decompression is incremental with ``max_length`` so a gzip bomb is stopped after ``limit``
    output bytes (413) instead of exhausting memory. ``deflate`` accepts the zlib wrapper (what
    HTTP means) and, as a fallback, a raw deflate stream (what some clients send).
    """
    enc = (encoding or "identity").strip().lower()
    if enc in ("", "identity"):
        if len(body) > limit:
            raise BadRequest(f"body exceeds the {limit}-byte limit", 413)
        return body
    if enc in ("gzip", "x-gzip"):
        return _inflate(body, zlib.MAX_WBITS | 16, limit)
    if enc == "deflate":
        try:
            return _inflate(body, zlib.MAX_WBITS, limit)
        except BadRequest as exc:
            if exc.http_status == 413:
                raise
            return _inflate(body, -zlib.MAX_WBITS, limit)
    raise BadRequest(f"unsupported Content-Encoding {encoding!r} (use gzip, deflate or none)", 415)


def _inflate(data: bytes, wbits: int, limit: int) -> bytes:
    out: list[bytes] = []
    size = 0
    chunk = 1 << 20
    try:
        while data:
            d = zlib.decompressobj(wbits)
            pending = data
            while pending and not d.eof:
                piece = d.decompress(pending, min(chunk, limit - size + 1))
                size += len(piece)
                if size > limit:
                    raise BadRequest(f"decompressed body exceeds the {limit}-byte limit", 413)
                out.append(piece)
                pending = d.unconsumed_tail
            if not d.eof:
                raise BadRequest("compressed body is truncated")
            # gzip allows concatenated members; anything else after the stream is garbage
            data = d.unused_data if wbits & 16 else b""
            if data and not (wbits & 16):
                raise BadRequest("trailing bytes after the compressed stream")
    except zlib.error as exc:
        raise BadRequest(f"cannot decompress body: {exc}") from exc
    return b"".join(out)


def parse_body(signal: Signal, body: bytes | bytearray, content_type: str) -> Message:
    """Decode an (already decompressed) export request body of ``content_type``."""
    message = signal.request_type()
    if content_type == PROTOBUF:
        try:
            message.ParseFromString(body)  # type: ignore[arg-type]  # any buffer works
        except DecodeError as exc:
            raise BadRequest(f"malformed protobuf {message.DESCRIPTOR.name}: {exc}") from exc
        return message
    if content_type == JSON:
        return parse_json(signal, body)
    raise BadRequest(f"unsupported Content-Type {content_type!r}", 415)


# OTLP/JSON spells these bytes fields as hex (protobuf JSON would be base64).
_HEX_ID_FIELDS = frozenset({"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"})
# A malformed hex id becomes this 1-byte id, which no id field accepts: admission then rejects
# just the span / log record / data point holding it, and its siblings are stored.
_BAD_ID = base64.b64encode(b"\xff").decode("ascii")
# Deepest JSON nesting accepted: OTLP needs ~12 levels plus ~4 per nested AnyValue (kvlist or
# array), so this allows ~35 nested values, about what the protobuf decoder's recursion limit allows.
MAX_JSON_DEPTH = 160


def _hex_ids_to_base64(tree: Any) -> None:
    """Rewrite hex ids to base64 in place, iteratively, refusing nesting over MAX_JSON_DEPTH."""
    stack: list[tuple[Any, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise BadRequest(f"invalid OTLP/JSON: nested deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(node, dict):
            for key, value in node.items():
                if key in _HEX_ID_FIELDS and isinstance(value, str):
                    try:
                        node[key] = base64.b64encode(bytes.fromhex(value)).decode("ascii")
                    except ValueError:
                        node[key] = _BAD_ID
                elif isinstance(value, dict | list):
                    stack.append((value, depth + 1))
        else:
            stack.extend((item, depth + 1) for item in node if isinstance(item, dict | list))


def parse_json(signal: Signal, body: bytes | bytearray) -> Message:
    """Decode an OTLP/JSON export request (hex ids, integer enums, unknown fields ignored).

    An id that is not hex is decoded as a 1-byte id, so admission rejects only its item.
    """
    try:
        tree = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadRequest(f"invalid JSON: {type(exc).__name__}: {str(exc)[:200]}") from None
    if not isinstance(tree, dict):
        raise BadRequest("invalid OTLP/JSON: the body must be a JSON object")
    _hex_ids_to_base64(tree)
    message = signal.request_type()
    try:
        json_format.ParseDict(tree, message, ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError, TypeError, RecursionError) as exc:
        raise BadRequest(f"invalid OTLP/JSON {message.DESCRIPTOR.name}: {str(exc)[:300]}") from None
    return message


# --- items -----------------------------------------------------------------------------------


def count_items(signal: Signal, request: Any) -> int:
    """Spans, metric data points or log records in an export request."""
    n = 0
    if signal is Signal.TRACES:
        for rs in request.resource_spans:
            for ss in rs.scope_spans:
                n += len(ss.spans)
    elif signal is Signal.LOGS:
        for rl in request.resource_logs:
            for sl in rl.scope_logs:
                n += len(sl.log_records)
    else:
        for rm in request.resource_metrics:
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    kind = metric.WhichOneof("data")
                    if kind is not None:
                        n += len(getattr(metric, kind).data_points)
    return n


# --- responses -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an accepted export reports back: items rejected inside an otherwise good request."""

    rejected: int = 0
    message: str = ""


def export_response(signal: Signal, outcome: Outcome) -> Message:
    """The Export*ServiceResponse, with ``partial_success`` set when items were rejected."""
    response = signal.response_type()
    if outcome.rejected or outcome.message:
        partial = response.partial_success  # type: ignore[attr-defined]
        setattr(partial, _REJECTED_FIELD[signal], outcome.rejected)
        partial.error_message = outcome.message
    return response


def encode(message: Message, content_type: str) -> bytes:
    """Serialize ``message`` in the request's content type (OTLP/JSON uses camelCase)."""
    if content_type == JSON:
        return json_format.MessageToJson(message, indent=None).encode("utf-8")
    return message.SerializeToString()


def status_body(code: int, message: str, content_type: str) -> bytes:
    """A ``google.rpc.Status`` error body in ``content_type`` (protobuf unless JSON was sent)."""
    return encode(status_pb2.Status(code=code, message=message), content_type)
