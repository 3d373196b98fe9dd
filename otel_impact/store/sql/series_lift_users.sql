-- Per-user outcomes for lift: every key (the metric's join key attribute, user.id by default)
-- exposed in [start, end) to a prediction whose arm attribute is the treatment or the control
-- value is assigned to the arm of its FIRST such exposure (keys exposed to both arms stay in
-- that first arm; `arms` = 2 counts them). value = sum of the key's outcomes at or after that
-- first exposure and before end; pre_value = sum of its outcomes in [pre_start, start) (CUPED
-- covariate; 0 without a pre-period). segs / version / model = the configured segment values,
-- model version and model name on that exposure; treated_spans = the key's treatment-arm spans.
-- Exposures (/*EXPOSURES*/: k, exposure_arm, exposure_version, exposure_model, t, exposure_segs)
-- come from series_lift_exposures_view.sql (any span attribute as the arm, read from the
-- impact_predictions view's attribute map) or, when the arm attribute is ml.model.version, from
-- series_lift_exposures_typed.sql (impact_predictions_typed's model_version column).
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
        /*EXPOSURES*/
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
