-- Deduplicated impact.alert / impact.incident events for dashboards: one row per (event, time,
-- rule or incident metric, segment), taken from the latest run that exported it. LogAttributes
-- may be a Map or (exporter `json: true`) a JSON column: `_a` is a Map either way.
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
    WITH
-- @if logs_json
        mapFromArrays(JSONAllPaths(otel_logs.LogAttributes), JSONAllValues(otel_logs.LogAttributes)) AS _a
-- @else
        otel_logs.LogAttributes AS _a
-- @end
    SELECT
-- @if logs_event_name
        if(EventName != '', EventName, _a[{{key:EVENT_NAME}}]) AS EventName,
-- @else
        _a[{{key:EVENT_NAME}}] AS EventName,
-- @end
        Timestamp,
        SeverityText,
        Body,
        _a AS LogAttributes,
        _a[{{key:IMPACT_ALERT_RULE}}] AS Rule,
        _a[{{key:IMPACT_INCIDENT_METRIC}}] AS IncidentMetric,
        _a[{{key:IMPACT_SEGMENT_KEY}}] AS SegmentKey,
        _a[{{key:IMPACT_SEGMENT_VALUE}}] AS SegmentValue,
        _a[{{key:IMPACT_RUN_ID}}] AS RunId
    FROM {{db}}.otel_logs
)
WHERE EventName IN ({{key:EVENT_IMPACT_ALERT}}, {{key:EVENT_IMPACT_INCIDENT}})
GROUP BY EventName, Timestamp, Rule, IncidentMetric, SegmentKey, SegmentValue
