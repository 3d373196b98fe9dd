-- Prediction spans of the planned models in the window, with their raw attributes (impact_spans:
-- Map or JSON attribute columns; subquery of
-- plan_attrs.sql).
SELECT
    attributes[{model_key:String}] AS name,
    Timestamp AS ts,
    TraceId AS trace_id,
    SpanId AS span_id,
    CAST(ServiceName, 'String') AS service_name,
    CAST(attributes, 'Map(String, String)') AS attributes
FROM impact_spans
WHERE attributes[{model_key:String}] IN {names:Array(String)}
    AND Timestamp >= {start:DateTime64(9, 'UTC')} AND Timestamp < {end:DateTime64(9, 'UTC')}
