-- Heuristic attribution (last_touch, first_touch, linear, position_based, time_decay) of every
-- outcome to the predictions of the same key with ts in [outcome ts - window, outcome ts]
-- (closed both ends), inside ClickHouse, on the per-key arrays of stitch_grouped.sql.
--
-- Per outcome: lo/hi = first/last eligible index in the key's predictions sorted by
-- (ts, cityHash64(prediction_id)); n = hi - lo + 1 eligible predictions; a_i = adjusted count.
--   last_touch      1 for i = n                       first_touch  1 for i = 1
--   linear          a_i / sum(a)
--   position_based  n = 1: 1; n = 2: first/(first+last) and last/(first+last) (linear if both 0);
--                   n >= 3: first, last, and (1 - first - last) * a_i / sum(a of the middle)
--   time_decay      a_i * 2^(-(t_n - t_i) / half_life) / sum(...)   (relative to the newest, so
--                   long windows never underflow; the same ratios as 2^(-(t_outcome - t_i)/h))
-- Only per-outcome scalars (n, sums) and the eligible slices of cells, weights and decay weights
-- are built per outcome; one ARRAY JOIN over those aligned slices gives one row per (outcome,
-- eligible prediction) where the five shares are plain scalar expressions (no per-element tuple
-- arrays). Lambdas take aligned arrays as arguments and capture only scalars (capturing an array
-- inside a lambda copies it per element). Outcomes with no eligible prediction emit one row with
-- cell 0, n = 0 and zero shares. Result: one row per (bucket of the outcome ts, cell) with summed
-- credits/values ({bucket_ns} = the window length gives a single bucket).
SELECT
    {start_ns:Int64} + intDiv(ot - {start_ns:Int64}, {bucket_ns:Int64}) * {bucket_ns:Int64} AS bucket_ns,
    cell,
    sum(c_last) AS credit_last_touch,
    sum(c_first) AS credit_first_touch,
    sum(c_lin) AS credit_linear,
    sum(c_pos) AS credit_position_based,
    sum(c_td) AS credit_time_decay,
    sum(ov * c_last) AS value_last_touch,
    sum(ov * c_first) AS value_first_touch,
    sum(ov * c_lin) AS value_linear,
    sum(ov * c_pos) AS value_position_based,
    sum(ov * c_td) AS value_time_decay,
    countIf(n = 0) AS unattributed_outcomes,
    sumIf(ov, n = 0) AS unattributed_value
FROM
(
    SELECT
        ot, ov, n, cell,
        if(n > 0, toFloat64(i = n), 0.0) AS c_last,
        if(n > 0, toFloat64(i = 1), 0.0) AS c_first,
        if(n > 0, a / sa, 0.0) AS c_lin,
        if(n > 0, multiIf(
            n = 1, 1.0,
            n = 2, if(pf + pl > 0, if(i = 1, pf, pl) / (pf + pl), a / sa),
            i = 1, pf,
            i = n, pl,
            (1 - pf - pl) * a / sm), 0.0) AS c_pos,
        if(n > 0, d / sd, 0.0) AS c_td
    FROM
    (
        SELECT
            ot,
            ov,
            arrayFirstIndex(x -> x >= ot - {window_ns:Int64}, pts) AS lo,
            arrayLastIndex(x -> x <= ot, pts) AS hi,
            if(lo > 0 AND hi >= lo, hi - lo + 1, 0) AS n,
            arraySlice(pa, lo, n) AS wa,
            arraySum(wa) AS sa,
            arraySum(arraySlice(wa, 2, n - 2)) AS sm,
            if(n > 0, pts[hi], 0) AS t_last,
            arrayMap((a, t2) -> a * exp2(-(t_last - t2) / {half_life_ns:Float64}), wa, arraySlice(pts, lo, n)) AS wd,
            arraySum(wd) AS sd,
            {pos_first:Float64} AS pf,
            {pos_last:Float64} AS pl,
            if(n > 0, arraySlice(pc, lo, n), [toUInt64(0)]) AS wc
        FROM ( /*GROUPED*/ )
        ARRAY JOIN ots AS ot, ovs AS ov
    )
    ARRAY JOIN
        wc AS cell,
        if(n > 0, wa, [0.0]) AS a,
        if(n > 0, wd, [0.0]) AS d,
        arrayEnumerate(wc) AS i
)
GROUP BY bucket_ns, cell
