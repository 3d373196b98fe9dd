-- Lift exposures from the impact_predictions view (our spans and LLM spans; Map or JSON attribute
-- columns): the arm is any span attribute, read from the attribute map. Spliced into
-- series_lift_users.sql as /*EXPOSURES*/.
SELECT
    toString({pkey:Identifier}) AS k,
    attributes[{arm_attr:String}] AS exposure_arm,
    model_version AS exposure_version,
    model_name AS exposure_model,
    toInt64(toUnixTimestamp64Nano(ts)) AS t,
    arrayMap(x -> segments[x], {seg_keys:Array(String)}) AS exposure_segs
FROM impact_predictions
WHERE ts >= fromUnixTimestamp64Nano({start_ns:Int64})
  AND ts < fromUnixTimestamp64Nano({end_ns:Int64})
  AND (empty({models:Array(String)}) OR has({models:Array(String)}, model_name))
  AND k != ''
  AND exposure_arm IN ({treatment:String}, {control:String})
