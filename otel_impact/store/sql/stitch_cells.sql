-- Names of the prediction cells used by stitch_grouped.sql: cell hash -> model name, version and
-- configured segment values, over the same predictions.
SELECT
    cityHash64(model_name, model_version, arrayMap(x -> segments[x], {seg_keys:Array(String)})) AS cell,
    any(model_name) AS cell_model_name,
    any(model_version) AS cell_model_version,
    any(arrayMap(x -> segments[x], {seg_keys:Array(String)})) AS segment_values
FROM impact_predictions
WHERE ts >= fromUnixTimestamp64Nano({pstart_ns:Int64})
  AND ts < fromUnixTimestamp64Nano({end_ns:Int64})
  AND toString({pkey:Identifier}) != ''
  AND (empty({models:Array(String)}) OR has({models:Array(String)}, model_name))
GROUP BY cell
