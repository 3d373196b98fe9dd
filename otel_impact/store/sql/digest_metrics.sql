-- Latest value of each deduplicated impact.* window-level point within a period (one row per
-- metric and attribute set), for review digests.
SELECT MetricName, Attributes, argMax(Value, TimeUnix) AS value, max(TimeUnix) AS at
FROM impact_metrics_latest
WHERE TimeUnix > {since:DateTime('UTC')} AND TimeUnix <= {until:DateTime('UTC')}
  AND MetricName IN {names:Array(String)}
GROUP BY MetricName, Attributes
ORDER BY MetricName, at DESC
