"""OTLP export requests → column lists in the exporter's INSERT order (traces and logs).

Pure conversion, no I/O: :func:`trace_columns` and :func:`log_columns` take decoded
``ExportTraceServiceRequest`` / ``ExportLogsServiceRequest`` messages and return
``{column: list}`` ready for ``client.insert(..., column_oriented=True)``. Timestamps stay
integer nanoseconds (clickhouse-connect writes ints into DateTime64(9) unchanged, which is
measurably cheaper than building ``datetime`` objects). Metrics live in :mod:`.metric_columns`.

This is the receiver's hot path: resource and scope attributes are converted once per
resource/scope, per-span work appends to prebound list methods, enum names come from tuples.

>>> from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
>>> trace_columns([ExportTraceServiceRequest()])["Timestamp"]
[]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from otel_impact import semconv
from otel_impact.store.encoding import (
    SPAN_KINDS,
    STATUS_CODES,
    attributes_map,
    id_hex,
    value_string,
)

TRACE_COLUMNS = (
    "Timestamp",
    "TraceId",
    "SpanId",
    "ParentSpanId",
    "TraceState",
    "SpanName",
    "SpanKind",
    "ServiceName",
    "ResourceAttributes",
    "ScopeName",
    "ScopeVersion",
    "SpanAttributes",
    "Duration",
    "StatusCode",
    "StatusMessage",
    "Events.Timestamp",
    "Events.Name",
    "Events.Attributes",
    "Links.TraceId",
    "Links.SpanId",
    "Links.TraceState",
    "Links.Attributes",
)

LOG_COLUMNS = (
    "Timestamp",
    "TraceId",
    "SpanId",
    "TraceFlags",
    "SeverityText",
    "SeverityNumber",
    "ServiceName",
    "Body",
    "ResourceSchemaUrl",
    "ResourceAttributes",
    "ScopeSchemaUrl",
    "ScopeName",
    "ScopeVersion",
    "ScopeAttributes",
    "LogAttributes",
    "EventName",
)

_MASK64 = (1 << 64) - 1
_ZERO16 = bytes(16)
_ZERO8 = bytes(8)
_N_KINDS = len(SPAN_KINDS)
_N_STATUS = len(STATUS_CODES)


def service_name(resource: Any) -> str:
    """Resource ``service.name`` via AsString; ``''`` when absent (exporter ``GetServiceName``)."""
    for kv in resource.attributes:
        if kv.key == semconv.SERVICE_NAME:
            return value_string(kv.value)
    return ""


def trace_columns(requests: Iterable[Any]) -> dict[str, list[Any]]:
    """Spans of ``requests`` as ``{column: values}`` for ``otel_traces`` (22 INSERT columns)."""
    cols: dict[str, list[Any]] = {name: [] for name in TRACE_COLUMNS}
    ts, tid, sid, psid, tstate, name, kind, svc, rattrs, sname, sver, sattrs = (
        cols[c].append for c in TRACE_COLUMNS[:12]
    )
    dur, status, smsg, ev_ts, ev_name, ev_attrs, ln_tid, ln_sid, ln_state, ln_attrs = (
        cols[c].append for c in TRACE_COLUMNS[12:]
    )
    kinds, statuses = SPAN_KINDS, STATUS_CODES
    for request in requests:
        for resource_spans in request.resource_spans:
            resource = resource_spans.resource
            resource_attrs = attributes_map(resource.attributes)
            service = service_name(resource)
            for scope_spans in resource_spans.scope_spans:
                scope = scope_spans.scope
                scope_name, scope_version = scope.name, scope.version
                for span in scope_spans.spans:
                    start = span.start_time_unix_nano
                    ts(start)
                    # ids inlined (no call per id): lowercase hex, '' when empty or all zero
                    raw = span.trace_id
                    tid(raw.hex() if raw and raw != _ZERO16 else "")
                    raw = span.span_id
                    sid(raw.hex() if raw and raw != _ZERO8 else "")
                    raw = span.parent_span_id
                    psid(raw.hex() if raw and raw != _ZERO8 else "")
                    tstate(span.trace_state)
                    name(span.name)
                    k = span.kind
                    kind(kinds[k] if 0 <= k < _N_KINDS else kinds[0])
                    svc(service)
                    rattrs(resource_attrs)
                    sname(scope_name)
                    sver(scope_version)
                    sattrs(attributes_map(span.attributes))
                    dur((span.end_time_unix_nano - start) & _MASK64)
                    st = span.status
                    code = st.code
                    status(statuses[code] if 0 <= code < _N_STATUS else statuses[0])
                    smsg(st.message)
                    events = span.events
                    if events:  # one pass per list; attribute maps only when present
                        e_ts: list[int] = []
                        e_name: list[str] = []
                        e_attrs: list[dict[str, str]] = []
                        for e in events:
                            e_ts.append(e.time_unix_nano)
                            e_name.append(e.name)
                            e_attrs.append(attributes_map(e.attributes) if e.attributes else {})
                        ev_ts(e_ts)
                        ev_name(e_name)
                        ev_attrs(e_attrs)
                    else:
                        ev_ts([])
                        ev_name([])
                        ev_attrs([])
                    links = span.links
                    if links:
                        l_tid: list[str] = []
                        l_sid: list[str] = []
                        l_state: list[str] = []
                        l_attrs: list[dict[str, str]] = []
                        for link in links:
                            l_tid.append(id_hex(link.trace_id))
                            l_sid.append(id_hex(link.span_id))
                            l_state.append(link.trace_state)
                            l_attrs.append(attributes_map(link.attributes) if link.attributes else {})
                        ln_tid(l_tid)
                        ln_sid(l_sid)
                        ln_state(l_state)
                        ln_attrs(l_attrs)
                    else:
                        ln_tid([])
                        ln_sid([])
                        ln_state([])
                        ln_attrs([])
    return cols


def log_columns(requests: Iterable[Any], *, event_name: bool = True) -> dict[str, list[Any]]:
    """Log records of ``requests`` as ``{column: values}`` for ``otel_logs``.

    ``event_name=False`` leaves out the optional ``EventName`` column (tables created before
    it existed), as the exporter does after ``DESC TABLE``.
    """
    names = LOG_COLUMNS if event_name else LOG_COLUMNS[:-1]
    cols: dict[str, list[Any]] = {n: [] for n in names}
    ts, tid, sid, flags, sev_text, sev_num, svc, body, r_url, rattrs, s_url, sname, sver, sattrs, lattrs = (
        cols[c].append for c in LOG_COLUMNS[:15]
    )
    ev = cols["EventName"].append if event_name else None
    for request in requests:
        for resource_logs in request.resource_logs:
            resource = resource_logs.resource
            resource_attrs = attributes_map(resource.attributes)
            service = service_name(resource)
            resource_url = resource_logs.schema_url
            for scope_logs in resource_logs.scope_logs:
                scope = scope_logs.scope
                scope_name, scope_version = scope.name, scope.version
                scope_attrs = attributes_map(scope.attributes)
                scope_url = scope_logs.schema_url
                for record in scope_logs.log_records:
                    ts(record.time_unix_nano or record.observed_time_unix_nano)
                    tid(id_hex(record.trace_id))
                    sid(id_hex(record.span_id))
                    flags(record.flags & 0xFF)
                    sev_text(record.severity_text)
                    sev_num(record.severity_number & 0xFF)
                    svc(service)
                    body(value_string(record.body))
                    r_url(resource_url)
                    rattrs(resource_attrs)
                    s_url(scope_url)
                    sname(scope_name)
                    sver(scope_version)
                    sattrs(scope_attrs)
                    lattrs(attributes_map(record.attributes))
                    if ev is not None:
                        ev(record.event_name)
    return cols
