-- Per prediction with ts in [start, end): did >= 1 outcome of the same key follow within the
-- join window (outcome ts in [prediction ts, prediction ts + window])? Aggregated per bucket of
-- the prediction ts x channel x configured segment values, weighted by adjusted count.
-- Predictions near the window end have had less time to convert (right-censoring).
SELECT
    {start_ns:Int64} + intDiv(t - {start_ns:Int64}, {bucket_ns:Int64}) * {bucket_ns:Int64} AS bucket_ns,
    ch.1 AS model_name,
    ch.2 AS model_version,
    sv AS segment_values,
    sum(a) AS predictions,
    sumIf(a, converted) AS converted
FROM
(
    SELECT
        t, a, ch, sv,
        arrayExists(ot -> ot >= t AND ot <= t + {window_ns:Int64}, otimes) AS converted
    FROM
    (
        SELECT pts, pa, pch, psv, arrayMap(x -> x.1, outs) AS otimes
        FROM ( /*GROUPED*/ )
    )
    ARRAY JOIN pts AS t, pa AS a, pch AS ch, psv AS sv
    WHERE t >= {start_ns:Int64}
)
GROUP BY bucket_ns, model_name, model_version, segment_values
