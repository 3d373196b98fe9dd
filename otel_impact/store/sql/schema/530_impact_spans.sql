-- Every span with its attributes as Map(String, String), whatever the attribute column's type:
-- the exporter's Map layout, or its `json: true` layout (JSON columns, flattened here). Queries
-- that read attributes of spans that are not predictions (pipeline runs, tracking-plan checks)
-- read this view instead of otel_traces, so both layouts work. Column names are otel_traces'.
CREATE VIEW IF NOT EXISTS {{db}}.impact_spans {{on_cluster}} AS
SELECT
    Timestamp,
    TraceId,
    SpanId,
    ParentSpanId,
    SpanName,
    SpanKind,
    ServiceName,
    Duration,
    StatusCode,
-- @if traces_json
    mapFromArrays(JSONAllPaths(SpanAttributes), JSONAllValues(SpanAttributes)) AS attributes
-- @else
    SpanAttributes AS attributes
-- @end
FROM {{db}}.otel_traces
