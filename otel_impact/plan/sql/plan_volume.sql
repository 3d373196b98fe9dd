-- Rows per full bucket (index b from the window start) of the planned events and models.
SELECT 'event' AS kind, event_name AS name,
    intDiv(toUnixTimestamp64Nano(ts) - {start_ns:Int64}, {bucket_ns:Int64}) AS b, count() AS n
FROM impact_events_typed
WHERE event_name IN {events:Array(String)}
    AND ts >= {start:DateTime64(9, 'UTC')} AND ts < {end:DateTime64(9, 'UTC')}
GROUP BY name, b
UNION ALL
SELECT 'span' AS kind, model_name AS name,
    intDiv(toUnixTimestamp64Nano(ts) - {start_ns:Int64}, {bucket_ns:Int64}) AS b, count() AS n
FROM impact_predictions_typed
WHERE model_name IN {models:Array(String)}
    AND ts >= {start:DateTime64(9, 'UTC')} AND ts < {end:DateTime64(9, 'UTC')}
GROUP BY name, b
