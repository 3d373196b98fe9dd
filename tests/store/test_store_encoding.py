"""Pure conversion: OTLP values and requests → exporter strings and INSERT columns."""

from __future__ import annotations

import base64
import math
import random
from decimal import Decimal

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from otel_impact.store.columns import LOG_COLUMNS, TRACE_COLUMNS, log_columns, trace_columns
from otel_impact.store.encoding import (
    attributes_map,
    exemplar_hex,
    format_double,
    id_hex,
    span_kind_name,
    status_code_name,
    value_string,
)


def go_json_float(value: float) -> str:
    """Independent oracle: Go encoding/json float64 format via Decimal of the shortest repr."""
    magnitude = abs(value)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        mantissa, exponent = f"{Decimal(repr(value)):E}".split("E")
        mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
        sign, digits = exponent[0], exponent[1:].lstrip("0") or "0"
        if sign == "+" and len(digits) < 2:
            digits = digits.rjust(2, "0")
        return f"{mantissa}e{sign}{digits}"
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "-0" if text == "-0" else text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.0, "1"),
        (-7.0, "-7"),
        (0.25, "0.25"),
        (0.0, "0"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1.5e21, "1.5e+21"),
        (1e-6, "0.000001"),
        (1e-7, "1e-7"),
        (-1.5e-7, "-1.5e-7"),
        (1e-10, "1e-10"),
        (1e100, "1e+100"),
        (5e-324, "5e-324"),
        (123456789012345680.0, "123456789012345680"),
        (1e16, "10000000000000000"),
        (0.1 + 0.2, "0.30000000000000004"),
        (float("nan"), "json: unsupported value: NaN"),
        (float("inf"), "json: unsupported value: +Inf"),
        (float("-inf"), "json: unsupported value: -Inf"),
    ],
)
def test_format_double_matches_go(value: float, expected: str) -> None:
    assert format_double(value) == expected


def test_format_double_random_against_oracle() -> None:
    rng = random.Random(7)
    for _ in range(5000):
        value = rng.uniform(-1, 1) * 10 ** rng.randint(-30, 30)
        assert format_double(value) == go_json_float(value), repr(value)
    for exponent in range(-12, 25):  # cross the notation cut-offs exactly
        for value in (10.0**exponent, 1.5 * 10.0**exponent, 9.999 * 10.0**exponent):
            assert format_double(value) == go_json_float(value), repr(value)


def _av(**kwargs: object) -> AnyValue:
    return AnyValue(**kwargs)  # type: ignore[arg-type]


def test_scalar_values() -> None:
    assert value_string(_av(string_value="héllo ✓")) == "héllo ✓"
    assert value_string(_av(string_value="")) == ""
    assert value_string(_av(int_value=42)) == "42"
    assert value_string(_av(int_value=-(2**63))) == str(-(2**63))
    assert value_string(_av(double_value=2.0)) == "2"
    assert value_string(_av(bool_value=True)) == "true"
    assert value_string(_av(bool_value=False)) == "false"
    assert value_string(_av(bytes_value=b"\x00\xffab")) == base64.b64encode(b"\x00\xffab").decode()
    assert value_string(AnyValue()) == ""


def test_array_and_kvlist_are_compact_json() -> None:
    array = _av(
        array_value=ArrayValue(
            values=[
                _av(string_value="a"),
                _av(int_value=1),
                _av(bool_value=True),
                _av(double_value=1.5e-7),
                _av(bytes_value=b"hi"),
                AnyValue(),
                _av(string_value='q"<&>\n\u2028'),
            ]
        )
    )
    assert value_string(array) == '["a",1,true,1.5e-7,"aGk=",null,"q\\"<&>\\n\\u2028"]'
    kvlist = _av(
        kvlist_value=KeyValueList(
            values=[
                KeyValue(key="b", value=_av(string_value="x")),
                KeyValue(key="a", value=_av(int_value=1)),
                KeyValue(key="c", value=_av(array_value=ArrayValue(values=[_av(double_value=1.0)]))),
            ]
        )
    )
    assert value_string(kvlist) == '{"a":1,"b":"x","c":[1]}'
    assert value_string(_av(array_value=ArrayValue())) == "[]"
    assert value_string(_av(kvlist_value=KeyValueList())) == "{}"


def test_nested_nan_gives_empty_string_like_go_marshal_error() -> None:
    array = _av(array_value=ArrayValue(values=[_av(int_value=1), _av(double_value=math.nan)]))
    assert value_string(array) == ""
    kvlist = _av(kvlist_value=KeyValueList(values=[KeyValue(key="x", value=_av(double_value=math.inf))]))
    assert value_string(kvlist) == ""


def test_attributes_map_keeps_order_and_converts() -> None:
    attrs = [
        KeyValue(key="z", value=_av(int_value=3)),
        KeyValue(key="a", value=_av(string_value="s")),
        KeyValue(key="e", value=_av(string_value="")),
        KeyValue(key="n", value=AnyValue()),
    ]
    out = attributes_map(attrs)
    assert out == {"z": "3", "a": "s", "e": "", "n": ""}
    assert list(out) == ["z", "a", "e", "n"]


def test_ids_and_enums() -> None:
    assert id_hex(bytes(16)) == ""
    assert id_hex(b"") == ""
    assert id_hex(bytes.fromhex("00ff") * 8) == "00ff" * 8
    assert exemplar_hex(b"", 16) == "0" * 32
    assert exemplar_hex(b"", 8) == "0" * 16
    assert [span_kind_name(k) for k in range(7)] == [
        "Unspecified",
        "Internal",
        "Server",
        "Client",
        "Producer",
        "Consumer",
        "Unspecified",
    ]
    assert [status_code_name(c) for c in range(3)] == ["Unset", "Ok", "Error"]


def _span(**kwargs: object) -> Span:
    return Span(**kwargs)  # type: ignore[arg-type]


def test_trace_columns_layout_and_values() -> None:
    resource = Resource(attributes=[KeyValue(key="service.name", value=_av(int_value=7))])
    spans = [
        _span(
            trace_id=b"\x01" * 16,
            span_id=b"\x02" * 8,
            start_time_unix_nano=10,
            end_time_unix_nano=5,  # end < start wraps like the exporter's uint64 arithmetic
            kind=Span.SPAN_KIND_SERVER,
        ),
        _span(trace_id=bytes(16), span_id=b"\x03" * 8, start_time_unix_nano=1, end_time_unix_nano=4),
    ]
    request = ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(resource=resource, scope_spans=[ScopeSpans(spans=spans)])]
    )
    cols = trace_columns([request, request])
    assert tuple(cols) == TRACE_COLUMNS
    assert all(len(v) == 4 for v in cols.values())
    assert cols["ServiceName"] == ["7"] * 4
    assert cols["Duration"][:2] == [2**64 - 5, 3]
    assert cols["TraceId"][:2] == ["01" * 16, ""]
    assert cols["SpanKind"][:2] == ["Server", "Unspecified"]
    assert cols["StatusCode"][0] == "Unset"
    assert cols["Events.Name"][0] == [] and cols["Links.Attributes"][0] == []


def test_log_columns_use_observed_time_when_time_is_zero() -> None:
    records = [
        LogRecord(time_unix_nano=0, observed_time_unix_nano=99, flags=0x1FF, event_name="business.purchase"),
        LogRecord(time_unix_nano=5, observed_time_unix_nano=99, body=_av(int_value=3)),
    ]
    request = ExportLogsServiceRequest(
        resource_logs=[ResourceLogs(scope_logs=[ScopeLogs(log_records=records)])]
    )
    cols = log_columns([request])
    assert tuple(cols) == LOG_COLUMNS
    assert cols["Timestamp"] == [99, 5]
    assert cols["TraceFlags"] == [0xFF, 0]
    assert cols["Body"] == ["", "3"]
    assert cols["EventName"] == ["business.purchase", ""]
    assert cols["ServiceName"] == ["", ""]
    assert "EventName" not in log_columns([request], event_name=False)
