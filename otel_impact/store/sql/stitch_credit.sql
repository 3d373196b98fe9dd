-- Heuristic attribution (last_touch, first_touch, linear, position_based, time_decay) of every
-- outcome to the predictions of the same key with ts in [outcome ts - window, outcome ts]
-- (closed both ends), inside ClickHouse, on the per-key arrays of stitch_grouped.sql.
--
-- Per outcome: lo/hi = first/last eligible index in the key's predictions sorted by
-- (ts, prediction_id); n = hi - lo + 1 eligible predictions; a_i = adjusted count.
--   last_touch      1 for i = n                       first_touch  1 for i = 1
--   linear          a_i / sum(a)
--   position_based  n = 1: 1; n = 2: first/(first+last) and last/(first+last) (linear if both 0);
--                   n >= 3: first, last, and (1 - first - last) * a_i / sum(a of the middle)
--   time_decay      a_i * 2^(-(t_n - t_i) / half_life) / sum(...)   (relative to the newest, so
--                   long windows never underflow; the same ratios as 2^(-(t_outcome - t_i)/h))
-- Lambdas take aligned arrays as arguments and capture only scalars (capturing an array inside
-- a lambda copies it per element). Outcomes with no eligible prediction emit one row with cell 0
-- and n = 0. Result: one row per (bucket of the outcome ts, cell) with summed credits/values
-- ({bucket_ns} = the window length gives a single bucket).
SELECT
    {start_ns:Int64} + intDiv(ot - {start_ns:Int64}, {bucket_ns:Int64}) * {bucket_ns:Int64} AS bucket_ns,
    cell,
    sum(cr.1) AS credit_last_touch,
    sum(cr.2) AS credit_first_touch,
    sum(cr.3) AS credit_linear,
    sum(cr.4) AS credit_position_based,
    sum(cr.5) AS credit_time_decay,
    sum(ov * cr.1) AS value_last_touch,
    sum(ov * cr.2) AS value_first_touch,
    sum(ov * cr.3) AS value_linear,
    sum(ov * cr.4) AS value_position_based,
    sum(ov * cr.5) AS value_time_decay,
    countIf(n = 0) AS unattributed_outcomes,
    sumIf(ov, n = 0) AS unattributed_value
FROM
(
    SELECT
        ot,
        ov,
        arrayFirstIndex(x -> x >= ot - {window_ns:Int64}, pts) AS lo,
        arrayLastIndex(x -> x <= ot, pts) AS hi,
        if(lo > 0 AND hi >= lo, hi - lo + 1, 0) AS n,
        arraySlice(pa, lo, n) AS wa,
        arraySlice(pts, lo, n) AS wt,
        arraySlice(pc, lo, n) AS wc,
        arraySum(wa) AS sa,
        arraySum(arraySlice(wa, 2, n - 2)) AS sm,
        if(n > 0, pts[hi], 0) AS t_last,
        arrayMap((a, t2) -> a * exp2(-(t_last - t2) / {half_life_ns:Float64}), wa, wt) AS wd,
        arraySum(wd) AS sd,
        {pos_first:Float64} AS pf,
        {pos_last:Float64} AS pl,
        arrayMap(
            (i, a, d) -> (
                toFloat64(i = n),
                toFloat64(i = 1),
                a / sa,
                multiIf(
                    n = 1, 1.0,
                    n = 2, if(pf + pl > 0, if(i = 1, pf, pl) / (pf + pl), a / sa),
                    i = 1, pf,
                    i = n, pl,
                    (1 - pf - pl) * a / sm),
                d / sd),
            range(1, n + 1), wa, wd) AS credits
    FROM ( /*GROUPED*/ )
    ARRAY JOIN ots AS ot, ovs AS ov
)
ARRAY JOIN
    if(n > 0, wc, [toUInt64(0)]) AS cell,
    if(n > 0, credits, [(0.0, 0.0, 0.0, 0.0, 0.0)]) AS cr
GROUP BY bucket_ns, cell
