-- Per join key: its predictions as one array sorted by (ts, prediction_id) and its outcomes.
-- Predictions come from [start - window, end); outcomes from the /*OUTCOMES*/ subquery.
-- Result: k, pts (Array(Int64) ts ns), pa (adjusted counts), pch (Array((model, version))),
-- psv (Array(Array(String)) configured segment values), outs (Array((t, v))).
SELECT
    k,
    arraySort(groupArrayIf((t, pid, a, mn, mv, sv), is_pred = 1)) AS s,
    arrayMap(x -> x.1, s) AS pts,
    arrayMap(x -> x.3, s) AS pa,
    arrayMap(x -> (x.4, x.5), s) AS pch,
    arrayMap(x -> x.6, s) AS psv,
    groupArrayIf((t, v), is_pred = 0) AS outs
FROM
(
    SELECT
        toString({pkey:Identifier}) AS k,
        toInt64(toUnixTimestamp64Nano(ts)) AS t,
        toUInt8(1) AS is_pred,
        prediction_id AS pid,
        if(isFinite(adjusted_count) AND adjusted_count >= 1, adjusted_count, 1.0) AS a,
        model_name AS mn,
        model_version AS mv,
        arrayMap(x -> segments[x], {seg_keys:Array(String)}) AS sv,
        0.0 AS v
    FROM impact_predictions
    WHERE ts >= fromUnixTimestamp64Nano({pstart_ns:Int64})
      AND ts < fromUnixTimestamp64Nano({end_ns:Int64})
      AND k != ''
      AND (empty({models:Array(String)}) OR has({models:Array(String)}, model_name))
    UNION ALL
    SELECT k, t, toUInt8(0), '', 1.0, '', '', CAST([], 'Array(String)'), v
    FROM ( /*OUTCOMES*/ )
)
GROUP BY k
