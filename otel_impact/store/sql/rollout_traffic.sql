-- Rollout trail per segment: adjusted prediction count per model, version, value of one segment
-- key ('' when none is configured) and bucket (index b from the window start).
SELECT
    model_name AS model,
    model_version AS version,
    segments[{seg_key:String}] AS seg,
    intDiv(toUnixTimestamp64Nano(ts) - {start_ns:Int64}, {bucket_ns:Int64}) AS b,
    sum(adjusted_count) AS n,
    min(ts) AS first_ts
FROM impact_predictions_typed
WHERE ts >= {start:DateTime64(9, 'UTC')} AND ts < {end:DateTime64(9, 'UTC')}
    AND (empty({models:Array(String)}) OR has({models:Array(String)}, model_name))
GROUP BY model, version, seg, b
ORDER BY model, version, seg, b
