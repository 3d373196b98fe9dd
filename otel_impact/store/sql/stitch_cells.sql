-- Names of the prediction cells used by stitch_grouped.sql: cell hash -> model name, version and
-- configured segment values, over the same predictions (/*PREFILTER*/ as in stitch_grouped.sql).
SELECT cell, any(mn) AS cell_model_name, any(mv) AS cell_model_version, any(sv) AS segment_values
FROM
(
    SELECT
        toString({pkey:Identifier}) AS k,
        toInt64(toUnixTimestamp64Nano(ts)) AS t,
        model_name AS mn,
        model_version AS mv,
        arrayMap(x -> segments[x], {seg_keys:Array(String)}) AS sv,
        cityHash64(mn, mv, sv) AS cell
    FROM impact_predictions
    WHERE ts >= fromUnixTimestamp64Nano({pstart_ns:Int64})
      AND ts < fromUnixTimestamp64Nano({end_ns:Int64})
      AND k != ''
      AND (empty({models:Array(String)}) OR has({models:Array(String)}, model_name))
      /*PREFILTER*/
)
GROUP BY cell
