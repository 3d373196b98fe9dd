"""The Collector exporter's ``json: true`` layout for traces and logs, and a copy into it.

No Collector runs in the tests, so rows the embedded receiver wrote in the Map layout are copied
into tables of the JSON layout the way the exporter's JSON writer stores them (reference
``clickhouseexporter-schema.md`` §3.5/§6): every attribute map becomes a ``JSON`` object whose
values keep their native types (integers and doubles as numbers, booleans as booleans), with
the sorted ``*AttributesKeys`` companion columns.
"""

from __future__ import annotations

import re
from typing import Any

TRACES_JSON = """
CREATE TABLE {db}.otel_traces (
    Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ParentSpanId String CODEC(ZSTD(1)),
    TraceState String CODEC(ZSTD(1)),
    SpanName LowCardinality(String) CODEC(ZSTD(1)),
    SpanKind LowCardinality(String) CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes JSON CODEC(ZSTD(1)),
    ResourceAttributesKeys Array(LowCardinality(String)) CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion String CODEC(ZSTD(1)),
    SpanAttributes JSON CODEC(ZSTD(1)),
    SpanAttributesKeys Array(LowCardinality(String)) CODEC(ZSTD(1)),
    Duration UInt64 CODEC(ZSTD(1)),
    StatusCode LowCardinality(String) CODEC(ZSTD(1)),
    StatusMessage String CODEC(ZSTD(1)),
    Events Nested (Timestamp DateTime64(9), Name LowCardinality(String), Attributes JSON) CODEC(ZSTD(1)),
    Links Nested (TraceId String, SpanId String, TraceState String, Attributes JSON) CODEC(ZSTD(1)),
    INDEX idx_res_attr_keys ResourceAttributesKeys TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_keys SpanAttributesKeys TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_duration Duration TYPE minmax GRANULARITY 1
) ENGINE = MergeTree
PARTITION BY toDate(Timestamp)
ORDER BY (ServiceName, SpanName, toDateTime(Timestamp), Timestamp)
"""

LOGS_JSON = """
CREATE TABLE {db}.otel_logs (
    Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    TraceFlags UInt8,
    SeverityText LowCardinality(String) CODEC(ZSTD(1)),
    SeverityNumber UInt8,
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    Body String CODEC(ZSTD(1)),
    ResourceSchemaUrl LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes JSON CODEC(ZSTD(1)),
    ResourceAttributesKeys Array(LowCardinality(String)) CODEC(ZSTD(1)),
    ScopeSchemaUrl LowCardinality(String) CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion LowCardinality(String) CODEC(ZSTD(1)),
    ScopeAttributes JSON CODEC(ZSTD(1)),
    ScopeAttributesKeys Array(LowCardinality(String)) CODEC(ZSTD(1)),
    LogAttributes JSON CODEC(ZSTD(1)),
    LogAttributesKeys Array(LowCardinality(String)) CODEC(ZSTD(1)),
    EventName String CODEC(ZSTD(1)),
    INDEX idx_res_attr_keys ResourceAttributesKeys TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_log_attr_keys LogAttributesKeys TYPE bloom_filter(0.01) GRANULARITY 1
) ENGINE = MergeTree
PARTITION BY toDate(Timestamp)
PRIMARY KEY (ServiceName, toDateTime(Timestamp))
ORDER BY (ServiceName, toDateTime(Timestamp), Timestamp)
"""

_INT = re.compile(r"^-?(0|[1-9][0-9]{0,17})$")
_FLOAT = re.compile(r"^-?[0-9]+(\.[0-9]+)?(e[-+]?[0-9]+)?$")


def native(value: str) -> Any:
    """The native JSON value the exporter writes for an attribute the Map layout holds as text."""
    if _INT.match(value):
        return int(value)
    if _FLOAT.match(value):
        return float(value)
    if value in ("true", "false"):
        return value == "true"
    return value


def as_json(attributes: dict[str, str]) -> dict[str, Any]:
    return {k: native(v) for k, v in attributes.items()}


_TRACE_COLUMNS = (
    "Timestamp, TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind, ServiceName, "
    "ResourceAttributes, ScopeName, ScopeVersion, SpanAttributes, Duration, StatusCode, StatusMessage, "
    "Events.Timestamp, Events.Name, Events.Attributes, Links.TraceId, Links.SpanId, Links.TraceState, "
    "Links.Attributes"
)
_LOG_COLUMNS = (
    "Timestamp, TraceId, SpanId, TraceFlags, SeverityText, SeverityNumber, ServiceName, Body, "
    "ResourceSchemaUrl, ResourceAttributes, ScopeSchemaUrl, ScopeName, ScopeVersion, ScopeAttributes, "
    "LogAttributes, EventName"
)
_MAPS = {"ResourceAttributes", "SpanAttributes", "ScopeAttributes", "LogAttributes"}
_MAP_ARRAYS = {"Events.Attributes", "Links.Attributes"}


def _convert(names: list[str], row: tuple[Any, ...]) -> tuple[list[str], list[Any]]:
    out_names: list[str] = []
    out: list[Any] = []
    for name, value in zip(names, row, strict=True):
        if name in _MAPS:
            out_names += [name, name + "Keys"]
            out += [as_json(dict(value)), sorted(value)]
        elif name in _MAP_ARRAYS:
            out_names.append(name)
            out.append([as_json(dict(v)) for v in value])
        else:
            out_names.append(name)
            out.append(value)
    return out_names, out


def copy_to_json_layout(source: Any, target: Any) -> None:
    """Create the JSON-layout tables in ``target``'s database and copy ``source``'s rows into them."""
    db = target.database
    target.command(TRACES_JSON.format(db=db))
    target.command(LOGS_JSON.format(db=db))
    for table, columns in (("otel_traces", _TRACE_COLUMNS), ("otel_logs", _LOG_COLUMNS)):
        res = source.query(f"SELECT {columns} FROM {source.database}.{table}")
        names = list(res.column_names)
        rows = []
        out_names: list[str] = []
        for row in res.result_rows:
            out_names, converted = _convert(names, row)
            rows.append(converted)
        if rows:
            target.insert(table, rows, column_names=out_names, database=db)
