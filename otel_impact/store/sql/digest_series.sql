-- Mean of each all-users impact.series in this period vs the previous period of equal length.
SELECT
    Attributes[{name_key:String}] AS name,
    Attributes[{kind_key:String}] AS kind,
    avgIf(Value, TimeUnix > {mid:DateTime('UTC')}) AS current,
    avgIf(Value, TimeUnix <= {mid:DateTime('UTC')}) AS previous,
    countIf(TimeUnix > {mid:DateTime('UTC')}) AS n
FROM impact_metrics_latest
WHERE MetricName = {metric:String}
  AND Attributes[{segment_key:String}] = {all_segments:String}
  AND TimeUnix > {since:DateTime('UTC')} AND TimeUnix <= {until:DateTime('UTC')}
GROUP BY name, kind
ORDER BY kind, name
