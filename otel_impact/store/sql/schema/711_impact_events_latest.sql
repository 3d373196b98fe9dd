-- Deduplicated impact.alert / impact.incident events for dashboards: one row per (event, time,
-- rule or incident metric, segment), taken from the latest run that exported it.
CREATE OR REPLACE VIEW {{db}}.impact_events_latest {{on_cluster}} AS
SELECT
    EventName,
    Timestamp,
    Rule,
    IncidentMetric,
    SegmentKey,
    SegmentValue,
    argMax(SeverityText, RunId) AS SeverityText,
    argMax(Body, RunId) AS Body,
    argMax(LogAttributes, RunId) AS LogAttributes,
    max(RunId) AS LatestRunId,
    count() AS Exports
FROM (
    SELECT
        EventName,
        Timestamp,
        SeverityText,
        Body,
        LogAttributes,
        LogAttributes['impact.alert.rule'] AS Rule,
        LogAttributes['impact.incident.metric'] AS IncidentMetric,
        LogAttributes['impact.segment.key'] AS SegmentKey,
        LogAttributes['impact.segment.value'] AS SegmentValue,
        LogAttributes['impact.run.id'] AS RunId
    FROM {{db}}.otel_logs
    WHERE EventName IN ('impact.alert', 'impact.incident')
)
GROUP BY EventName, Timestamp, Rule, IncidentMetric, SegmentKey, SegmentValue
