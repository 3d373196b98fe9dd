-- Per prediction with ts in [start, end): did >= 1 outcome of the same key follow within the
-- join window (outcome ts in [prediction ts, prediction ts + window])? Aggregated per bucket of
-- the prediction ts x cell, weighted by adjusted count.
-- Predictions near the window end have had less time to convert (right-censoring).
SELECT
    {start_ns:Int64} + intDiv(t - {start_ns:Int64}, {bucket_ns:Int64}) * {bucket_ns:Int64} AS bucket_ns,
    cell,
    sum(a) AS predictions,
    sumIf(a, converted) AS converted
FROM
(
    SELECT
        t, a, cell,
        arrayExists(x -> x >= t AND x <= t + {window_ns:Int64}, ots) AS converted
    FROM ( /*GROUPED*/ )
    ARRAY JOIN pts AS t, pa AS a, pc AS cell
    WHERE t >= {start_ns:Int64}
)
GROUP BY bucket_ns, cell
