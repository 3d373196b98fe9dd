-- Channel paths for the data-driven models (Markov removal effect, Shapley), aggregated here so
-- only distinct paths reach Python. Run with no segment keys, so a cell is a channel: one
-- (model_name, model_version) pair.
--   converting path: per outcome with >= 1 eligible prediction (same rule as stitch_credit.sql),
--     the channels of its eligible predictions in (ts, cityHash64(prediction_id)) order, repeats
--     collapsed; worth 1 conversion and the outcome's value.
--   non-converting path: per key, its predictions with ts in [start, end) that are eligible for
--     none of the key's outcomes, in order, repeats collapsed; worth 1 non-conversion.
-- Result: path Array(UInt64 cell), conversions, value, non_conversions.
SELECT path, sum(conv) AS conversions, sum(val) AS value, sum(nonconv) AS non_conversions
FROM
(
    SELECT
        arrayCompact(arraySlice(pc, lo, hi - lo + 1)) AS path,
        toUInt64(1) AS conv,
        ov AS val,
        toUInt64(0) AS nonconv
    FROM
    (
        SELECT
            pc,
            ov,
            arrayFirstIndex(x -> x >= ot - {window_ns:Int64}, pts) AS lo,
            arrayLastIndex(x -> x <= ot, pts) AS hi
        FROM ( /*GROUPED*/ )
        ARRAY JOIN ots AS ot, ovs AS ov
    )
    WHERE lo > 0 AND hi >= lo
    UNION ALL
    SELECT
        arrayCompact(arrayFilter(
            (c, t) -> t >= {start_ns:Int64} AND NOT arrayExists(x -> x >= t AND x <= t + {window_ns:Int64}, ots),
            pc, pts)) AS path,
        toUInt64(0) AS conv,
        0.0 AS val,
        toUInt64(1) AS nonconv
    FROM ( /*GROUPED*/ )
    WHERE notEmpty(path)
)
GROUP BY path
