-- Model-endpoint SLO: adjusted prediction counts per step (index s from {start}) of one model,
-- all and good ones (latency SLI: duration within the threshold; error_rate SLI: no error).
SELECT
    intDiv(toUnixTimestamp64Nano(ts) - {start_ns:Int64}, {step_ns:Int64}) AS s,
    sum(adjusted_count) AS total,
    sumIf(adjusted_count, if({sli:String} = 'latency', duration_ns <= {threshold_ns:UInt64}, is_error = 0)) AS good
FROM impact_predictions_typed
WHERE model_name = {model:String}
    AND ts >= {start:DateTime64(9, 'UTC')} AND ts < {end:DateTime64(9, 'UTC')}
GROUP BY s
ORDER BY s
