-- Deduplicated impact.alert / impact.incident events for dashboards: one row per (event, time,
-- rule or incident metric, segment), taken from the latest run that exported it.
CREATE VIEW IF NOT EXISTS {{db}}.impact_events_latest {{on_cluster}} AS
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
-- @if logs_event_name
        if(EventName != '', EventName, LogAttributes[{{key:EVENT_NAME}}]) AS EventName,
-- @else
        LogAttributes[{{key:EVENT_NAME}}] AS EventName,
-- @end
        Timestamp,
        SeverityText,
        Body,
        LogAttributes,
        LogAttributes[{{key:IMPACT_ALERT_RULE}}] AS Rule,
        LogAttributes[{{key:IMPACT_INCIDENT_METRIC}}] AS IncidentMetric,
        LogAttributes[{{key:IMPACT_SEGMENT_KEY}}] AS SegmentKey,
        LogAttributes[{{key:IMPACT_SEGMENT_VALUE}}] AS SegmentValue,
        LogAttributes[{{key:IMPACT_RUN_ID}}] AS RunId
    FROM {{db}}.otel_logs
)
WHERE EventName IN ({{key:EVENT_IMPACT_ALERT}}, {{key:EVENT_IMPACT_INCIDENT}})
GROUP BY EventName, Timestamp, Rule, IncidentMetric, SegmentKey, SegmentValue
