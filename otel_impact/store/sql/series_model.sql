-- Model series per bucket of the prediction time x model x version ('' = all versions) x
-- segment ('' / '' = all users, then one row per configured segment key's value).
-- Volume is the sum of sampling weights (adjusted_count); latency in milliseconds.
-- Each prediction is aggregated once, into its finest cell (bucket x model x version x the
-- values of every segment key); the all-versions and per-segment rows are merged from those
-- cells' partial sums and quantile states (quantilesExactWeightedState / -Merge: the merged
-- state holds every (latency, weight) pair, so the quantiles stay exact).
SELECT
    bucket_ns,
    model_name,
    ver AS model_version,
    seg.1 AS segment_key,
    seg.2 AS segment_value,
    sum(cell_a) AS volume,
    sum(cell_a_score) / nullIf(sum(cell_a_scored), 0) AS mean_score,
    sum(cell_a_error) / sum(cell_a) AS error_rate,
    quantilesExactWeightedMerge(0.5, 0.95)(cell_latency) AS latency_ns
FROM
(
    SELECT
        {start_ns:Int64} + intDiv(toInt64(toUnixTimestamp64Nano(ts)) - {start_ns:Int64}, {bucket_ns:Int64}) * {bucket_ns:Int64} AS bucket_ns,
        model_name,
        model_version,
        arrayMap(x -> segments[x], {seg_keys:Array(String)}) AS segs,
        sum(a) AS cell_a,
        sumIf(a * score, isFinite(score)) AS cell_a_score,
        sumIf(a, isFinite(score)) AS cell_a_scored,
        sum(a * is_error) AS cell_a_error,
        quantilesExactWeightedState(0.5, 0.95)(duration_ns, toUInt64(greatest(1, round(a)))) AS cell_latency
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
    GROUP BY bucket_ns, model_name, model_version, segs
)
ARRAY JOIN ['', model_version] AS ver
ARRAY JOIN arrayConcat([('', '')], arrayZip({seg_keys:Array(String)}, segs)) AS seg
WHERE NOT (seg.1 != '' AND seg.2 = '')
GROUP BY bucket_ns, model_name, model_version, segment_key, segment_value
ORDER BY bucket_ns, model_name, model_version, segment_key, segment_value
