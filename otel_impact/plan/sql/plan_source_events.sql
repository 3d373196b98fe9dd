-- Rows of one event name in the window (subquery of plan_attrs.sql).
SELECT ts, trace_id, span_id, service_name, CAST(attributes, 'Map(String, String)') AS attributes
FROM impact_events
WHERE event_name = {name:String} AND ts >= {start:DateTime64(9, 'UTC')} AND ts < {end:DateTime64(9, 'UTC')}
