-- The row-wise form of otel_impact/store/sql/series_model.sql before it rolled up from per-cell
-- aggregate states: every prediction aggregated once per (all versions, its version) x (all users,
-- each segment key). tests/stages/test_series_rollup.py checks both give the same rows.
-- Model series per bucket of the prediction time x model x version ('' = all versions) x
-- segment ('' / '' = all users, then one row per configured segment key's value).
-- Volume is the sum of sampling weights (adjusted_count); latency in milliseconds.
SELECT
    {start_ns:Int64} + intDiv(toInt64(toUnixTimestamp64Nano(ts)) - {start_ns:Int64}, {bucket_ns:Int64}) * {bucket_ns:Int64} AS bucket_ns,
    model_name,
    ver AS model_version,
    seg.1 AS segment_key,
    seg.2 AS segment_value,
    sum(a) AS volume,
    sumIf(a * score, isFinite(score)) / nullIf(sumIf(a, isFinite(score)), 0) AS mean_score,
    sum(a * is_error) / sum(a) AS error_rate,
    quantilesExactWeighted(0.5, 0.95)(duration_ns, toUInt64(greatest(1, round(a)))) AS latency_ns
FROM
(
    SELECT
        ts, model_name, model_version, segments, score, is_error, duration_ns,
        if(isFinite(adjusted_count) AND adjusted_count >= 1, adjusted_count, 1.0) AS a
    FROM impact_predictions_typed
    WHERE ts >= fromUnixTimestamp64Nano({start_ns:Int64})
      AND ts < fromUnixTimestamp64Nano({end_ns:Int64})
      AND (empty({models:Array(String)}) OR has({models:Array(String)}, model_name))
)
ARRAY JOIN ['', model_version] AS ver
ARRAY JOIN arrayConcat([('', '')], arrayMap(x -> (x, segments[x]), {seg_keys:Array(String)})) AS seg
WHERE NOT (seg.1 != '' AND seg.2 = '')
GROUP BY bucket_ns, model_name, model_version, segment_key, segment_value
ORDER BY bucket_ns, model_name, model_version, segment_key, segment_value
