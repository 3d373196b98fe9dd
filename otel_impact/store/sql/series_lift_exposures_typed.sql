-- Lift exposures when the arms are model versions: impact_predictions_typed's model_version column
-- instead of the view's attribute map (the typed table is filled once at insert time; reading the
-- view re-derives every span's attributes). model_version is ml.model.version on our spans and,
-- on LLM spans, the version the llm.version_attributes setting selects (the version the series,
-- the ROI and the reports use). Spliced into series_lift_users.sql as /*EXPOSURES*/.
SELECT
    toString({pkey:Identifier}) AS k,
    model_version AS exposure_arm,
    model_version AS exposure_version,
    model_name AS exposure_model,
    toInt64(toUnixTimestamp64Nano(ts)) AS t,
    arrayMap(x -> segments[x], {seg_keys:Array(String)}) AS exposure_segs
FROM impact_predictions_typed
WHERE ts >= fromUnixTimestamp64Nano({start_ns:Int64})
  AND ts < fromUnixTimestamp64Nano({end_ns:Int64})
  AND (empty({models:Array(String)}) OR has({models:Array(String)}, model_name))
  AND k != ''
  AND exposure_arm IN ({treatment:String}, {control:String})
