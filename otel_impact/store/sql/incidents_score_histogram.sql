-- The ml.prediction.score histogram metric per (model, series, bucket), for models whose spans
-- carry no scores: the last cumulative BucketCounts in the bucket (AggregationTemporality 2) or
-- the sum of the delta BucketCounts (1). A series is one exporter stream (service, resource,
-- attributes, start time: a restarted process starts a new series).
SELECT
    Attributes[{k_model:String}] AS model,
    toString(cityHash64(ServiceName, ResourceAttributes, Attributes, StartTimeUnix)) AS series,
    toInt64(intDiv(toInt64(toUnixTimestamp(TimeUnix)) * 1000000000 - {start_ns:Int64}, {bucket_ns:Int64})) AS b,
    toInt64(any(AggregationTemporality)) AS temporality,
    toInt64(toUnixTimestamp(any(StartTimeUnix))) * 1000000000 AS series_start_ns,
    argMax(BucketCounts, TimeUnix) AS last_counts,
    sumForEach(BucketCounts) AS delta_counts,
    any(ExplicitBounds) AS bounds
FROM otel_metrics_histogram
WHERE MetricName = {metric:String}
  AND Attributes[{k_model:String}] != ''
  AND TimeUnix >= fromUnixTimestamp64Nano({start_ns:Int64})
  AND TimeUnix < fromUnixTimestamp64Nano({end_ns:Int64})
  AND (empty({models:Array(String)}) OR has({models:Array(String)}, Attributes[{k_model:String}]))
GROUP BY model, series, b
ORDER BY model, series, b
