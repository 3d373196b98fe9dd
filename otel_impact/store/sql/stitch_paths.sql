-- Channel paths for the data-driven models (Markov removal effect, Shapley), aggregated here so
-- only distinct paths reach Python. A channel is a (model_name, model_version) pair.
--   converting path: per outcome with >= 1 eligible prediction (same rule as stitch_credit.sql),
--     the channels of its eligible predictions in (ts, prediction_id) order, consecutive repeats
--     collapsed; worth 1 conversion and the outcome's value.
--   non-converting path: per key, its predictions with ts in [start, end) that are eligible for
--     none of the key's outcomes, in order, repeats collapsed; worth 1 non-conversion.
-- Result: path Array((model, version)), conversions, value, non_conversions.
SELECT path, sum(conv) AS conversions, sum(val) AS value, sum(nonconv) AS non_conversions
FROM
(
    SELECT
        arrayCompact(arraySlice(pch, lo, hi - lo + 1)) AS path,
        toUInt64(1) AS conv,
        o.2 AS val,
        toUInt64(0) AS nonconv
    FROM ( /*GROUPED*/ )
    ARRAY JOIN outs AS o
    WHERE (arrayFirstIndex(x -> x >= o.1 - {window_ns:Int64}, pts) AS lo) > 0
      AND (arrayLastIndex(x -> x <= o.1, pts) AS hi) >= lo
    UNION ALL
    SELECT
        arrayCompact(arrayFilter(
            (c, t) -> t >= {start_ns:Int64} AND NOT arrayExists(ot -> ot >= t AND ot <= t + {window_ns:Int64}, otimes),
            pch, pts)) AS path,
        toUInt64(0) AS conv,
        0.0 AS val,
        toUInt64(1) AS nonconv
    FROM
    (
        SELECT pch, pts, arrayMap(x -> x.1, outs) AS otimes
        FROM ( /*GROUPED*/ )
    )
    WHERE notEmpty(path)
)
GROUP BY path
