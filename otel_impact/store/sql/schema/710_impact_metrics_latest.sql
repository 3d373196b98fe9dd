-- Deduplicated impact.* points for dashboards: one row per (metric, attributes without the
-- run/window attributes, timestamp), valued from the latest run (run ids sort by start time).
CREATE OR REPLACE VIEW {{db}}.impact_metrics_latest {{on_cluster}} AS
SELECT
    MetricName,
    any(MetricUnit) AS MetricUnit,
    KeyAttributes AS Attributes,
    TimeUnix,
    argMax(Value, RunId) AS Value,
    max(RunId) AS LatestRunId,
    count() AS Exports
FROM (
    SELECT
        MetricName,
        MetricUnit,
        TimeUnix,
        Value,
        mapFilter((k, v) -> k NOT IN ('impact.run.id', 'impact.window.start', 'impact.window.end'), Attributes)
            AS KeyAttributes,
        Attributes['impact.run.id'] AS RunId
    FROM {{db}}.otel_metrics_gauge
    WHERE startsWith(MetricName, 'impact.')
)
GROUP BY MetricName, KeyAttributes, TimeUnix
