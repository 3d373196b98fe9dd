"""OTLP metrics → column lists for the five exporter metric tables (INSERT order of §5).

Pure conversion: :func:`metric_columns` returns ``{table: {column: list}}`` for every table
that received points. Timestamps go into ``DateTime`` columns, so they are whole seconds
(nanoseconds // 1e9, as the newest exporter layout truncates them). Number points are Float64
(ints converted); exemplar ids are plain hex (unset → zeros); histogram Min/Max are 0 when
unset; temporality is the OTLP enum number.

>>> from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
>>> metric_columns([ExportMetricsServiceRequest()])
{}
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from otel_impact import semconv
from otel_impact.store.columns import service_name
from otel_impact.store.encoding import attributes_map, exemplar_hex

_NS = 1_000_000_000

COMMON = (
    "ResourceAttributes",
    "ResourceSchemaUrl",
    "ScopeName",
    "ScopeVersion",
    "ScopeAttributes",
    "ScopeDroppedAttrCount",
    "ScopeSchemaUrl",
    "ServiceName",
    "MetricName",
    "MetricDescription",
    "MetricUnit",
    "Attributes",
    "StartTimeUnix",
    "TimeUnix",
)
EXEMPLARS = (
    "Exemplars.FilteredAttributes",
    "Exemplars.TimeUnix",
    "Exemplars.Value",
    "Exemplars.SpanId",
    "Exemplars.TraceId",
)
METRIC_COLUMNS: dict[str, tuple[str, ...]] = {
    semconv.TABLE_METRICS_GAUGE: (*COMMON, "Value", "Flags", *EXEMPLARS),
    semconv.TABLE_METRICS_SUM: (
        *COMMON,
        "Value",
        "Flags",
        *EXEMPLARS,
        "AggregationTemporality",
        "IsMonotonic",
    ),
    semconv.TABLE_METRICS_HISTOGRAM: (
        *COMMON,
        "Count",
        "Sum",
        "BucketCounts",
        "ExplicitBounds",
        *EXEMPLARS,
        "Flags",
        "Min",
        "Max",
        "AggregationTemporality",
    ),
    semconv.TABLE_METRICS_EXP_HISTOGRAM: (
        *COMMON,
        "Count",
        "Sum",
        "Scale",
        "ZeroCount",
        "PositiveOffset",
        "PositiveBucketCounts",
        "NegativeOffset",
        "NegativeBucketCounts",
        *EXEMPLARS,
        "Flags",
        "Min",
        "Max",
        "AggregationTemporality",
    ),
    semconv.TABLE_METRICS_SUMMARY: (
        *COMMON,
        "Count",
        "Sum",
        "ValueAtQuantiles.Quantile",
        "ValueAtQuantiles.Value",
        "Flags",
    ),
}
_TABLE_OF = {
    "gauge": semconv.TABLE_METRICS_GAUGE,
    "sum": semconv.TABLE_METRICS_SUM,
    "histogram": semconv.TABLE_METRICS_HISTOGRAM,
    "exponential_histogram": semconv.TABLE_METRICS_EXP_HISTOGRAM,
    "summary": semconv.TABLE_METRICS_SUMMARY,
}


def _number(point: Any) -> float:
    """NumberDataPoint / Exemplar value as Float64 (ints converted; empty → 0)."""
    which = point.WhichOneof("value")
    if which == "as_double":
        return float(point.as_double)
    if which == "as_int":
        return float(point.as_int)
    return 0.0


def _exemplars(cols: dict[str, list[Any]], exemplars: Any, unit: int) -> None:
    cols["Exemplars.FilteredAttributes"].append([attributes_map(e.filtered_attributes) for e in exemplars])
    cols["Exemplars.TimeUnix"].append([e.time_unix_nano // unit for e in exemplars])
    cols["Exemplars.Value"].append([_number(e) for e in exemplars])
    cols["Exemplars.SpanId"].append([exemplar_hex(e.span_id, 8) for e in exemplars])
    cols["Exemplars.TraceId"].append([exemplar_hex(e.trace_id, 16) for e in exemplars])


def metric_columns(requests: Iterable[Any], *, nanos: bool = False) -> dict[str, dict[str, list[Any]]]:
    """Points of ``requests`` as ``{table: {column: values}}``; tables without points are absent.

    Times are whole seconds for the newest layout's ``DateTime`` columns; ``nanos=True`` keeps
    integer nanoseconds for tables of the previous layout (``DateTime64(9)``).
    """
    unit = 1 if nanos else _NS
    tables: dict[str, dict[str, list[Any]]] = {}
    for request in requests:
        for resource_metrics in request.resource_metrics:
            resource = resource_metrics.resource
            common_resource = (
                attributes_map(resource.attributes),
                resource_metrics.schema_url,
            )
            service = service_name(resource)
            for scope_metrics in resource_metrics.scope_metrics:
                scope = scope_metrics.scope
                common_scope = (
                    scope.name,
                    scope.version,
                    attributes_map(scope.attributes),
                    scope.dropped_attributes_count,
                    scope_metrics.schema_url,
                    service,
                )
                for metric in scope_metrics.metrics:
                    kind = metric.WhichOneof("data")
                    if kind is None:
                        continue
                    table = _TABLE_OF[kind]
                    cols = tables.get(table)
                    if cols is None:
                        cols = tables[table] = {name: [] for name in METRIC_COLUMNS[table]}
                    head = (*common_resource, *common_scope, metric.name, metric.description, metric.unit)
                    _append_points(cols, kind, getattr(metric, kind), head, unit)
    return tables


def _append_points(
    cols: dict[str, list[Any]], kind: str, data: Any, head: tuple[Any, ...], unit: int
) -> None:
    appenders = [cols[name].append for name in COMMON[:11]]
    attrs, start, time = cols["Attributes"].append, cols["StartTimeUnix"].append, cols["TimeUnix"].append
    temporality = getattr(data, "aggregation_temporality", 0)
    for point in data.data_points:
        for append, value in zip(appenders, head, strict=True):
            append(value)
        attrs(attributes_map(point.attributes))
        start(point.start_time_unix_nano // unit)
        time(point.time_unix_nano // unit)
        if kind in ("gauge", "sum"):
            cols["Value"].append(_number(point))
            cols["Flags"].append(point.flags)
            _exemplars(cols, point.exemplars, unit)
            if kind == "sum":
                cols["AggregationTemporality"].append(temporality)
                cols["IsMonotonic"].append(bool(data.is_monotonic))
        elif kind == "histogram":
            cols["Count"].append(point.count)
            cols["Sum"].append(point.sum)
            cols["BucketCounts"].append(list(point.bucket_counts))
            cols["ExplicitBounds"].append(list(point.explicit_bounds))
            _exemplars(cols, point.exemplars, unit)
            _tail(cols, point, temporality)
        elif kind == "exponential_histogram":
            cols["Count"].append(point.count)
            cols["Sum"].append(point.sum)
            cols["Scale"].append(point.scale)
            cols["ZeroCount"].append(point.zero_count)
            cols["PositiveOffset"].append(point.positive.offset)
            cols["PositiveBucketCounts"].append(list(point.positive.bucket_counts))
            cols["NegativeOffset"].append(point.negative.offset)
            cols["NegativeBucketCounts"].append(list(point.negative.bucket_counts))
            _exemplars(cols, point.exemplars, unit)
            _tail(cols, point, temporality)
        else:  # summary
            cols["Count"].append(point.count)
            cols["Sum"].append(point.sum)
            cols["ValueAtQuantiles.Quantile"].append([q.quantile for q in point.quantile_values])
            cols["ValueAtQuantiles.Value"].append([q.value for q in point.quantile_values])
            cols["Flags"].append(point.flags)


def _tail(cols: dict[str, list[Any]], point: Any, temporality: int) -> None:
    cols["Flags"].append(point.flags)
    cols["Min"].append(point.min)  # proto3 optional: 0 when unset, like pdata
    cols["Max"].append(point.max)
    cols["AggregationTemporality"].append(temporality)
