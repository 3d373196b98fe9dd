-- Metric-tree source: an OTel gauge or sum metric by name, bucketed (n points, s sum, m mean value).
SELECT
    toStartOfInterval(t, toIntervalSecond({bucket:UInt32})) AS b,
    count() AS n,
    sum(v) AS s,
    avg(v) AS m,
    max(t) AS last_ts
FROM (
    SELECT toDateTime64(TimeUnix, 9, 'UTC') AS t, Value AS v FROM otel_metrics_gauge WHERE MetricName = {name:String}
    UNION ALL
    SELECT toDateTime64(TimeUnix, 9, 'UTC') AS t, Value AS v FROM otel_metrics_sum WHERE MetricName = {name:String}
)
WHERE t >= {since:DateTime64(9, 'UTC')} AND t < {until:DateTime64(9, 'UTC')}
GROUP BY b
ORDER BY b
