-- CPU seconds (increase of a cumulative counter per series, or the sum of delta points) and
-- mean memory bytes (summed over the service's series, e.g. its instances) per service.
SELECT
    service,
    sumIf(increase, kind = 'cpu') AS cpu_seconds,
    sumIf(mean_value, kind = 'memory') AS memory_bytes
FROM
(
    SELECT
        CAST(ServiceName, 'String') AS service,
        if(has({cpu:Array(String)}, MetricName), 'cpu', 'memory') AS kind,
        if(any(AggregationTemporality) = 1, sum(Value), max(Value) - min(Value)) AS increase,
        avg(Value) AS mean_value
    FROM otel_metrics_sum
    WHERE (has({cpu:Array(String)}, MetricName) OR has({memory:Array(String)}, MetricName))
        AND TimeUnix >= {start:DateTime64(9, 'UTC')} AND TimeUnix < {end:DateTime64(9, 'UTC')}
    GROUP BY service, kind, MetricName, Attributes, ResourceAttributes
    UNION ALL
    SELECT
        CAST(ServiceName, 'String') AS service,
        'memory' AS kind,
        0.0 AS increase,
        avg(Value) AS mean_value
    FROM otel_metrics_gauge
    WHERE has({memory:Array(String)}, MetricName)
        AND TimeUnix >= {start:DateTime64(9, 'UTC')} AND TimeUnix < {end:DateTime64(9, 'UTC')}
    GROUP BY service, MetricName, Attributes, ResourceAttributes
)
GROUP BY service
ORDER BY service
