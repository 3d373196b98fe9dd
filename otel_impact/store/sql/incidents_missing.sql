-- Per (model, bucket): missing-feature signals from prediction spans' ml.features.missing
-- (number of missing features in the request): the share of prediction spans with at least one
-- missing feature and the mean number missing; NaN for a model whose spans never carry it.
SELECT
    attributes[{k_model:String}] AS model,
    toInt64(intDiv(toUnixTimestamp64Nano(Timestamp) - {start_ns:Int64}, {bucket_ns:Int64})) AS b,
    count() AS n,
    if(countIf(mapContains(attributes, {k_missing:String})) = 0, nan,
       countIf(toFloat64OrZero(attributes[{k_missing:String}]) > 0) / count()) AS missing_rate,
    if(countIf(mapContains(attributes, {k_missing:String})) = 0, nan,
       avg(toFloat64OrZero(attributes[{k_missing:String}]))) AS missing_mean
FROM impact_spans
WHERE attributes[{k_model:String}] != ''
  AND Timestamp >= fromUnixTimestamp64Nano({start_ns:Int64})
  AND Timestamp < fromUnixTimestamp64Nano({end_ns:Int64})
  AND (empty({models:Array(String)}) OR has({models:Array(String)}, attributes[{k_model:String}]))
GROUP BY model, b
ORDER BY model, b
