-- Deployment trail: adjusted prediction count per model, version and bucket (index b from the
-- window start), with each cell's first and last prediction time.
SELECT
    model_name AS model,
    model_version AS version,
    intDiv(toUnixTimestamp64Nano(ts) - {start_ns:Int64}, {bucket_ns:Int64}) AS b,
    sum(adjusted_count) AS n,
    min(ts) AS first_ts,
    max(ts) AS last_ts
FROM impact_predictions_typed
WHERE ts >= {start:DateTime64(9, 'UTC')} AND ts < {end:DateTime64(9, 'UTC')}
    AND (empty({models:Array(String)}) OR has({models:Array(String)}, model_name))
GROUP BY model, version, b
ORDER BY model, version, b
