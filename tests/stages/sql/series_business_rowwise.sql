-- The form of otel_impact/store/sql/series_business.sql that grouped every prediction and outcome by
-- bucket x key before joining the key's segment; tests/stages/test_series_rollup.py compares them.
-- Business series of one metric per bucket x segment. Outcomes (t, k, v) come from the
-- /*OUTCOMES*/ subquery (events or the metric's SQL source, through identity mapping); k is the
-- metric's join key. A key is "active" in a bucket when it has a prediction there; its segment
-- is the one on its latest prediction in the window (keys without predictions count only
-- towards all users). conversion_rate = active keys with >= 1 outcome / active keys;
-- value_per_user = value of all outcomes / active keys (computed by the caller).
SELECT
    b AS bucket_ns,
    seg.1 AS segment_key,
    seg.2 AS segment_value,
    sum(key_value) AS value,
    sum(key_events) AS events,
    countIf(active = 1) AS active_keys,
    countIf(active = 1 AND key_events > 0) AS converted_keys
FROM
(
    SELECT b, k, max(act) AS active, sum(v) AS key_value, sum(ev) AS key_events
    FROM
    (
        SELECT
            {start_ns:Int64} + intDiv(toInt64(toUnixTimestamp64Nano(ts)) - {start_ns:Int64}, {bucket_ns:Int64}) * {bucket_ns:Int64} AS b,
            toString({pkey:Identifier}) AS k,
            toUInt8(1) AS act,
            0.0 AS v,
            toUInt64(0) AS ev
        FROM impact_predictions_typed
        WHERE ts >= fromUnixTimestamp64Nano({start_ns:Int64})
          AND ts < fromUnixTimestamp64Nano({end_ns:Int64})
          AND k != ''
          AND (empty({models:Array(String)}) OR has({models:Array(String)}, model_name))
        UNION ALL
        SELECT
            {start_ns:Int64} + intDiv(t - {start_ns:Int64}, {bucket_ns:Int64}) * {bucket_ns:Int64} AS b,
            k,
            toUInt8(0) AS act,
            toFloat64(v) AS v,
            toUInt64(1) AS ev
        FROM ( /*OUTCOMES*/ )
    )
    GROUP BY b, k
) AS per_key
LEFT JOIN
(
    SELECT toString({pkey:Identifier}) AS k, argMax(segments, ts) AS segs
    FROM impact_predictions_typed
    WHERE ts >= fromUnixTimestamp64Nano({start_ns:Int64})
      AND ts < fromUnixTimestamp64Nano({end_ns:Int64})
      AND k != ''
      AND (empty({models:Array(String)}) OR has({models:Array(String)}, model_name))
    GROUP BY k
) AS key_segments ON per_key.k = key_segments.k
ARRAY JOIN arrayConcat([('', '')], arrayMap(x -> (x, segs[x]), {seg_keys:Array(String)})) AS seg
WHERE NOT (seg.1 != '' AND seg.2 = '')
GROUP BY bucket_ns, segment_key, segment_value
ORDER BY bucket_ns, segment_key, segment_value
