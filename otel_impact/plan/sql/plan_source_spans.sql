-- Prediction spans of the planned models in the window, with their raw attributes (subquery of
-- plan_attrs.sql).
SELECT
    SpanAttributes[{model_key:String}] AS name,
    Timestamp AS ts,
    TraceId AS trace_id,
    SpanId AS span_id,
    CAST(ServiceName, 'String') AS service_name,
    CAST(SpanAttributes, 'Map(String, String)') AS attributes
FROM otel_traces
WHERE SpanAttributes[{model_key:String}] IN {names:Array(String)}
    AND Timestamp >= {start:DateTime64(9, 'UTC')} AND Timestamp < {end:DateTime64(9, 'UTC')}
