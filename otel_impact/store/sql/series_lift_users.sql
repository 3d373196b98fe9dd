-- Per-user outcomes for lift: every key (the metric's join key attribute, user.id by default)
-- exposed in [start, end) to a prediction whose arm attribute is the treatment or the control
-- value is assigned to the arm of its FIRST such exposure (keys exposed to both arms stay in
-- that first arm; `arms` = 2 counts them). value = sum of the key's outcomes at or after that
-- first exposure and before end; pre_value = sum of its outcomes in [pre_start, start) (CUPED
-- covariate; 0 without a pre-period). segs / version / model = the configured segment values,
-- model version and model name on that exposure; treated_spans = the key's treatment-arm spans.
-- Exposures: the SOURCE table and ARM expression markers are spliced in by store/series.py: the
-- impact_predictions view (our spans and LLM spans; Map or JSON attribute columns) with any span
-- attribute as the arm, read from its attribute map; or, when the arm attribute is
-- ml.model.version, impact_predictions_typed and its model_version column (filled once at insert
-- time instead of re-derived from every span's attributes; on LLM spans the version that
-- llm.version_attributes selects, as the series, ROI and reports use).
SELECT
    e.k AS k,
    e.arm AS arm,
    e.arms AS arms,
    e.segs AS segs,
    e.version AS version,
    e.model AS model,
    e.treated_spans AS treated_spans,
    arraySum(arrayMap(x -> if(x.1 >= e.first_t, x.2, 0.0), o.outs)) AS value,
    pre.value AS pre_value
FROM
(
    SELECT
        k,
        argMin(exposure_arm, t) AS arm,
        uniqExact(exposure_arm) AS arms,
        argMin(exposure_segs, t) AS segs,
        argMin(exposure_version, t) AS version,
        argMin(exposure_model, t) AS model,
        countIf(exposure_arm = {treatment:String}) AS treated_spans,
        min(t) AS first_t
    FROM
    (
        SELECT
            toString({pkey:Identifier}) AS k,
            /*ARM*/ AS exposure_arm,
            model_version AS exposure_version,
            model_name AS exposure_model,
            toInt64(toUnixTimestamp64Nano(ts)) AS t,
            arrayMap(x -> segments[x], {seg_keys:Array(String)}) AS exposure_segs
        FROM /*SOURCE*/
        WHERE ts >= fromUnixTimestamp64Nano({start_ns:Int64})
          AND ts < fromUnixTimestamp64Nano({end_ns:Int64})
          AND (empty({models:Array(String)}) OR has({models:Array(String)}, model_name))
          AND k != ''
          AND exposure_arm IN ({treatment:String}, {control:String})
    )
    GROUP BY k
) AS e
LEFT JOIN
(
    SELECT k, groupArray((t, toFloat64(v))) AS outs FROM ( /*OUTCOMES*/ ) GROUP BY k
) AS o ON o.k = e.k
LEFT JOIN
(
    SELECT k, sum(toFloat64(v)) AS value FROM ( /*PRE_OUTCOMES*/ ) GROUP BY k
) AS pre ON pre.k = e.k
ORDER BY k
