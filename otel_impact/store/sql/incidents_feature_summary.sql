-- Per (model, feature, bucket): the instrumentation's opt-in ml.feature.summary events combined —
-- observations, missing values, count-weighted mean, min and max.
SELECT
    attributes[{k_model:String}] AS model,
    attributes[{k_feature:String}] AS feature,
    toInt64(intDiv(toUnixTimestamp64Nano(ts) - {start_ns:Int64}, {bucket_ns:Int64})) AS b,
    sum(toFloat64OrZero(attributes[{k_count:String}])) AS n,
    sum(toFloat64OrZero(attributes[{k_missing:String}])) AS missing,
    sumIf(
        toFloat64OrZero(attributes[{k_mean:String}]) * (toFloat64OrZero(attributes[{k_count:String}]) - toFloat64OrZero(attributes[{k_missing:String}])),
        attributes[{k_mean:String}] != ''
    ) / nullIf(sumIf(
        toFloat64OrZero(attributes[{k_count:String}]) - toFloat64OrZero(attributes[{k_missing:String}]),
        attributes[{k_mean:String}] != ''
    ), 0) AS mean,
    minIf(toFloat64OrNull(attributes[{k_min:String}]), attributes[{k_min:String}] != '') AS min,
    maxIf(toFloat64OrNull(attributes[{k_max:String}]), attributes[{k_max:String}] != '') AS max
FROM impact_events_typed
WHERE event_name = {event:String}
  AND ts >= fromUnixTimestamp64Nano({start_ns:Int64})
  AND ts < fromUnixTimestamp64Nano({end_ns:Int64})
  AND (empty({models:Array(String)}) OR has({models:Array(String)}, attributes[{k_model:String}]))
GROUP BY model, feature, b
ORDER BY model, feature, b
