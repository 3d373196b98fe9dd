-- Prediction rows of the typed view in [start, end), optionally one model / span kind.
-- (the output column ts is integer ns, so the filter names the view column explicitly)
SELECT
    toUnixTimestamp64Nano(ts) AS ts,
    trace_id, span_id, service_name, model_name, model_version, prediction_id, score, label,
    user_id, session_id, request_id, segments, features_hash, adjusted_count, duration_ns,
    is_error, span_kind
FROM impact_predictions_typed
WHERE impact_predictions_typed.ts >= fromUnixTimestamp64Nano({start_ns:Int64})
  AND impact_predictions_typed.ts < fromUnixTimestamp64Nano({end_ns:Int64})
  AND ({model:String} = '' OR model_name = {model:String})
  AND ({span_kind:String} = '' OR span_kind = {span_kind:String})
ORDER BY ts, span_id
