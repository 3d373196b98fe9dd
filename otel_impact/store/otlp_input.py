"""Encoded OTLP trace requests that the engine itself can parse and convert (no Python per span).

ClickHouse reads protobuf with its ``Protobuf`` input format: :data:`SCHEMA` is the subset of
the OTLP ``.proto`` files (``opentelemetry-proto``, field numbers unchanged) that the trace
columns need, :data:`STRUCTURE` the nested columns it is read into (one row per request;
repeated messages are arrays of tuples, every ``AnyValue`` member is ``Nullable`` so an absent
member is told apart from a zero one). ``sql/traces_from_otlp.sql`` then turns those rows into
``otel_traces`` rows with ``ARRAY JOIN`` and the same rules as :mod:`.columns` /
:mod:`.encoding` (pdata ``AsString``; the equality is tested on varied spans).

What the SQL cannot render — array and kvlist attribute values (compact JSON, sorted keys,
nested to any depth) — is left to the Python conversion: :func:`plain_values` says whether a
request has none. It decodes the request with a *shadow* message type whose ``AnyValue`` lacks
those two members, so they become unknown fields; after discarding unknown fields the shadow
encodes to fewer bytes exactly when such a value (or any field this schema does not know, or a
non-canonical encoding) was present. All of that runs in the protobuf runtime, not per span in
Python.

>>> from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
>>> req = ExportTraceServiceRequest()
>>> kv = req.resource_spans.add().resource.attributes.add(key="k")
>>> kv.value.string_value = "v"
>>> plain_values(req.SerializeToString())
True
>>> kv.value.array_value.values.add(int_value=1)
>>> plain_values(req.SerializeToString())
False
>>> frame([b"ab", b""])
b'\\x02ab\\x00'
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from collections.abc import Iterable
from functools import cache
from typing import Any

# The OTLP messages the trace columns read (opentelemetry-proto v1, field numbers unchanged).
# Enums are int32 (same varint wire format); array_value / kvlist_value are only detected.
SCHEMA = """
syntax = "proto3";
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message Resource { repeated KeyValue attributes = 1; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
message InstrumentationScope { string name = 1; string version = 2; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4;
  string name = 5; int32 kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9; repeated Event events = 11; repeated Link links = 13;
  Status status = 15;
}
message Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; }
message Link { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; repeated KeyValue attributes = 4; }
message Status { string message = 2; int32 code = 3; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue {
  oneof value {
    string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4;
    bytes bytes_value = 7;
  }
}
"""
MESSAGE = "ExportTraceServiceRequest"

_VALUE = (
    "Tuple(string_value Nullable(String), bool_value Nullable(Bool), int_value Nullable(Int64), "
    "double_value Nullable(Float64), bytes_value Nullable(String))"
)
_ATTRIBUTES = f"Array(Tuple(key String, value {_VALUE}))"
_SPAN = (
    "Tuple(trace_id String, span_id String, trace_state String, parent_span_id String, name String, "
    "kind Int32, start_time_unix_nano UInt64, end_time_unix_nano UInt64, "
    f"attributes {_ATTRIBUTES}, "
    f"events Array(Tuple(time_unix_nano UInt64, name String, attributes {_ATTRIBUTES})), "
    f"links Array(Tuple(trace_id String, span_id String, trace_state String, attributes {_ATTRIBUTES})), "
    "status Tuple(message String, code Int32))"
)
# One row per request, as the Protobuf input format fills it from SCHEMA.
STRUCTURE = (
    f"resource_spans Array(Tuple(resource Tuple(attributes {_ATTRIBUTES}), "
    f"scope_spans Array(Tuple(scope Tuple(name String, version String), spans Array({_SPAN})))))"
)

_SHADOW_DROPPED = ("array_value", "kvlist_value")
_SCHEMA_FILE = "otlp_traces.proto"
_workdir_lock = threading.Lock()
_workdir: list[str] = []


def workdir() -> str:
    """This process's private directory (mode 0700, removed at exit) holding the schema file
    and the request files the engine reads; recreated if something removed it."""
    with _workdir_lock:
        if _workdir and os.path.isfile(os.path.join(_workdir[0], _SCHEMA_FILE)):
            return _workdir[0]
        directory = tempfile.mkdtemp(prefix="otel-impact-otlp-")
        with open(os.path.join(directory, _SCHEMA_FILE), "w", encoding="utf-8") as file:
            file.write(SCHEMA)
        if not _workdir:
            atexit.register(lambda: shutil.rmtree(_workdir[0], ignore_errors=True))
        else:
            _workdir.clear()
        _workdir.append(directory)
        return directory


def schema_path() -> str:
    """Absolute path of :data:`SCHEMA` as a file (the engine's ``format_schema``; a file rather
    than ``format_schema_source = 'string'``, which caches a copy in the current directory)."""
    return os.path.join(workdir(), _SCHEMA_FILE)


@cache
def _shadow_type() -> Any:
    """ExportTraceServiceRequest in a private pool, its AnyValue without array/kvlist members."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
    from opentelemetry.proto.common.v1 import common_pb2
    from opentelemetry.proto.resource.v1 import resource_pb2
    from opentelemetry.proto.trace.v1 import trace_pb2

    pool = descriptor_pool.DescriptorPool()
    for module in (common_pb2, resource_pb2, trace_pb2, trace_service_pb2):
        proto = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(proto)
        for message in proto.message_type:
            if module is common_pb2 and message.name == "AnyValue":
                kept = [f for f in message.field if f.name not in _SHADOW_DROPPED]
                del message.field[:]
                message.field.extend(kept)
        pool.Add(proto)
    name = trace_service_pb2.ExportTraceServiceRequest.DESCRIPTOR.full_name
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(name))


def plain_values(body: bytes | bytearray) -> bool:
    """True when the encoded trace request ``body`` can take the engine path: no array/kvlist
    value, no field unknown to OTLP, canonical encoding (see the module docstring). False also
    when ``body`` does not decode."""
    from google.protobuf.message import DecodeError

    shadow = _shadow_type()()
    try:
        shadow.ParseFromString(bytes(body))
    except DecodeError:
        return False
    shadow.DiscardUnknownFields()
    return bool(shadow.ByteSize() == len(body))


def frame(bodies: Iterable[bytes | bytearray]) -> bytes:
    """Requests as the length-delimited stream the ``Protobuf`` input format reads (varint size,
    then the message), one row per request."""
    out = bytearray()
    for body in bodies:
        size = len(body)
        while size > 0x7F:
            out.append((size & 0x7F) | 0x80)
            size >>= 7
        out.append(size)
        out += body
    return bytes(out)


def count_spans(bodies: Iterable[bytes | bytearray]) -> int:
    """Spans in encoded trace requests (decoded by the protobuf runtime, not per span)."""
    n = 0
    for body in bodies:
        request = _shadow_type().FromString(bytes(body))
        n += sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)
    return n
