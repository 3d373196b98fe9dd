-- Rows of the planned event names in the window (subquery of plan_attrs.sql).
SELECT event_name AS name, ts, trace_id, span_id, service_name, CAST(attributes, 'Map(String, String)') AS attributes
FROM impact_events_typed
WHERE event_name IN {names:Array(String)}
    AND ts >= {start:DateTime64(9, 'UTC')} AND ts < {end:DateTime64(9, 'UTC')}
