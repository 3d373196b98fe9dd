-- Event rows of the typed view in [start, end): by exact names, a name prefix, or all.
-- (the output column ts is integer ns, so the filter names the view column explicitly)
SELECT
    toUnixTimestamp64Nano(ts) AS ts,
    event_name, service_name, trace_id, span_id, user_id, session_id, request_id,
    prediction_id, value, currency, label, attributes
FROM impact_events_typed
WHERE impact_events_typed.ts >= fromUnixTimestamp64Nano({start_ns:Int64})
  AND impact_events_typed.ts < fromUnixTimestamp64Nano({end_ns:Int64})
  AND (empty({names:Array(String)}) OR has({names:Array(String)}, event_name))
  AND startsWith(event_name, {prefix:String})
ORDER BY ts, event_name
