-- Business series of one metric per bucket x segment. Outcomes (t, k, v) come from the
-- /*OUTCOMES*/ subquery (events or the metric's SQL source, through identity mapping); k is the
-- metric's join key. A key is "active" in a bucket when it has a prediction there; its segment
-- is the one on its latest prediction in the window (keys without predictions count only
-- towards all users). conversion_rate = active keys with >= 1 outcome / active keys;
-- value_per_user = value of all outcomes / active keys (computed by the caller).
-- One row per key: its segment values and the buckets it was active in (one pass over the
-- predictions, grouped by key) joined with its outcomes per bucket. Each key's per-bucket
-- contributions (active, converted, value, events) are summed into cells (bucket x the key's
-- segment values); the all-users and per-segment-key rows are summed from those cells. (Grouping
-- every prediction and outcome by bucket x key instead builds millions of string-keyed groups.)
SELECT
    bucket_ns,
    seg.1 AS segment_key,
    seg.2 AS segment_value,
    sum(cell_value) AS value,
    sum(cell_events) AS events,
    sum(cell_active) AS active_keys,
    sum(cell_converted) AS converted_keys
FROM
(
    SELECT
        x.1 AS bucket_ns,
        segs AS cell_segs,
        sum(x.2) AS cell_active,
        sum(x.3) AS cell_converted,
        sum(x.4) AS cell_value,
        sum(x.5) AS cell_events
    FROM
    (
        SELECT
            if(length(i.segs) = length({seg_keys:Array(String)}), i.segs, arrayMap(s -> '', {seg_keys:Array(String)})) AS segs,
            arrayConcat(
                arrayMap(b -> (b, toUInt64(1), toUInt64(has(o.out_buckets, b)), 0.0, toUInt64(0)), i.active),
                arrayMap(
                    (b, v, n) -> (b, toUInt64(0), toUInt64(0), v, n), o.out_buckets, o.out_values, o.out_events
                )
            ) AS parts
        FROM
        (
            SELECT
                toString({pkey:Identifier}) AS k,
                argMax(arrayMap(x -> segments[x], {seg_keys:Array(String)}), ts) AS segs,
                groupUniqArray({start_ns:Int64} + intDiv(toInt64(toUnixTimestamp64Nano(ts)) - {start_ns:Int64}, {bucket_ns:Int64}) * {bucket_ns:Int64}) AS active
            FROM impact_predictions_typed
            WHERE ts >= fromUnixTimestamp64Nano({start_ns:Int64})
              AND ts < fromUnixTimestamp64Nano({end_ns:Int64})
              AND k != ''
              AND (empty({models:Array(String)}) OR has({models:Array(String)}, model_name))
            GROUP BY k
        ) AS i
        FULL OUTER JOIN
        (
            SELECT k, groupArray(b) AS out_buckets, groupArray(key_value) AS out_values, groupArray(key_events) AS out_events
            FROM
            (
                SELECT
                    {start_ns:Int64} + intDiv(t - {start_ns:Int64}, {bucket_ns:Int64}) * {bucket_ns:Int64} AS b,
                    k,
                    sum(toFloat64(v)) AS key_value,
                    count() AS key_events
                FROM ( /*OUTCOMES*/ )
                GROUP BY b, k
            )
            GROUP BY k
        ) AS o ON i.k = o.k
    )
    ARRAY JOIN parts AS x
    GROUP BY bucket_ns, cell_segs
)
ARRAY JOIN arrayConcat([('', '')], arrayZip({seg_keys:Array(String)}, cell_segs)) AS seg
WHERE NOT (seg.1 != '' AND seg.2 = '')
GROUP BY bucket_ns, segment_key, segment_value
ORDER BY bucket_ns, segment_key, segment_value
