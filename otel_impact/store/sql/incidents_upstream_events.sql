-- Upstream pipeline events (pipeline.run / pipeline.incident log events) in [from, end).
-- Attribute keys arrive as parameters (the semconv constants).
SELECT
    toInt64(toUnixTimestamp64Nano(ts)) AS t,
    event_name AS kind,
    attributes[{k_pipeline:String}] AS pipeline,
    attributes[{k_dataset:String}] AS dataset,
    lower(attributes[{k_status:String}]) AS status,
    attributes[{k_change:String}] AS change,
    attributes[{k_version:String}] AS version
FROM impact_events_typed
WHERE event_name IN {names:Array(String)}
  AND ts >= fromUnixTimestamp64Nano({from_ns:Int64})
  AND ts < fromUnixTimestamp64Nano({end_ns:Int64})
ORDER BY t, pipeline, dataset, kind, status, change, version
