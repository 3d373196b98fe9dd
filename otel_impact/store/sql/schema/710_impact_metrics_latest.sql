-- Deduplicated impact.* points for dashboards: one row per (metric, attributes without the
-- run/window attributes, timestamp), valued from the latest run (run ids sort by start time).
-- Re-running a window adds rows to otel_metrics_gauge but never a row to this view.
CREATE VIEW IF NOT EXISTS {{db}}.impact_metrics_latest {{on_cluster}} AS
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
        mapFilter(
            (k, v) -> k NOT IN ({{key:IMPACT_RUN_ID}}, {{key:IMPACT_WINDOW_START}}, {{key:IMPACT_WINDOW_END}}),
            Attributes
        ) AS KeyAttributes,
        Attributes[{{key:IMPACT_RUN_ID}}] AS RunId
    FROM {{db}}.otel_metrics_gauge
    WHERE startsWith(MetricName, {{key:IMPACT_PREFIX}})
)
GROUP BY MetricName, KeyAttributes, TimeUnix
