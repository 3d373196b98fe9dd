-- Per-user outcomes for lift by a feature flag: every key (the metric's join key, user.id by
-- default) with an evaluation of flag {flag:String} in [start, end) whose variant is the
-- treatment or the control value (impact_flag_evaluations: log events, OpenFeature span events,
-- feature_flag.* span attributes; the key is the evaluation's user.id / context id) is assigned
-- to the arm of its FIRST such evaluation (`arms` = 2 counts keys that also saw the other).
-- Same columns as series_lift_users.sql: value = the key's outcomes from that first evaluation
-- to end; pre_value = its outcomes in [pre_start, start); segs / version / model from the key's
-- latest prediction in the window (empty without one); treated_spans = treatment evaluations.
SELECT
    e.k AS k,
    e.arm AS arm,
    e.arms AS arms,
    pr.segs AS segs,
    pr.version AS version,
    pr.model AS model,
    e.treated_spans AS treated_spans,
    arraySum(arrayMap(x -> if(x.1 >= e.first_t, x.2, 0.0), o.outs)) AS value,
    pre.value AS pre_value
FROM
(
    SELECT
        k,
        argMin(variant, t) AS arm,
        uniqExact(variant) AS arms,
        countIf(variant = {treatment:String}) AS treated_spans,
        min(t) AS first_t
    FROM
    (
        SELECT user_id AS k, variant, toInt64(toUnixTimestamp64Nano(ts)) AS t
        FROM impact_flag_evaluations
        WHERE ts >= fromUnixTimestamp64Nano({start_ns:Int64})
          AND ts < fromUnixTimestamp64Nano({end_ns:Int64})
          AND flag_key = {flag:String}
          AND user_id != ''
          AND variant IN ({treatment:String}, {control:String})
    )
    GROUP BY k
) AS e
LEFT JOIN
(
    SELECT
        toString({pkey:Identifier}) AS k,
        argMax(arrayMap(x -> segments[x], {seg_keys:Array(String)}), ts) AS segs,
        argMax(model_version, ts) AS version,
        argMax(model_name, ts) AS model
    FROM impact_predictions_typed
    WHERE ts >= fromUnixTimestamp64Nano({start_ns:Int64})
      AND ts < fromUnixTimestamp64Nano({end_ns:Int64})
      AND k != ''
      AND (empty({models:Array(String)}) OR has({models:Array(String)}, model_name))
    GROUP BY k
) AS pr ON pr.k = e.k
LEFT JOIN
(
    SELECT k, groupArray((t, toFloat64(v))) AS outs FROM ( /*OUTCOMES*/ ) GROUP BY k
) AS o ON o.k = e.k
LEFT JOIN
(
    SELECT k, sum(toFloat64(v)) AS value FROM ( /*PRE_OUTCOMES*/ ) GROUP BY k
) AS pre ON pre.k = e.k
ORDER BY k
