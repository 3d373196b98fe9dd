-- Every event name and every model seen in the window, with row counts: unknown events,
-- deprecated entries in use and planned entries already live are found from these. The example
-- row is the last one (service and trace of the row at last_ts), the same on every read.
SELECT 'event' AS kind, event_name AS name, count() AS n, min(ts) AS first_ts, max(ts) AS last_ts,
    argMax(service_name, (ts, trace_id)) AS service, max((ts, trace_id)).2 AS last_trace_id
FROM impact_events_typed
WHERE ts >= {start:DateTime64(9, 'UTC')} AND ts < {end:DateTime64(9, 'UTC')}
GROUP BY name
UNION ALL
SELECT 'span' AS kind, model_name AS name, count() AS n, min(ts) AS first_ts, max(ts) AS last_ts,
    argMax(service_name, (ts, trace_id)) AS service, max((ts, trace_id)).2 AS last_trace_id
FROM impact_predictions_typed
WHERE ts >= {start:DateTime64(9, 'UTC')} AND ts < {end:DateTime64(9, 'UTC')}
GROUP BY name
