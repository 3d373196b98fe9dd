-- Typed view of OTel log events (business.*, ml.outcome, pipeline.*, impact.*): one row per
-- log record with an event name (the EventName column, else the event.name attribute).
-- A plain VIEW, so it also works over an otel_logs table a real Collector created; when that
-- table predates the EventName column only the attribute is used.
CREATE VIEW IF NOT EXISTS {{db}}.impact_events {{on_cluster}} AS
SELECT
    Timestamp AS ts,
-- @if logs_event_name
    if(EventName != '', EventName, LogAttributes[{{key:EVENT_NAME}}]) AS event_name,
-- @else
    LogAttributes[{{key:EVENT_NAME}}] AS event_name,
-- @end
    CAST(ServiceName, 'String') AS service_name,
    TraceId AS trace_id,
    SpanId AS span_id,
    LogAttributes[{{key:USER_ID}}] AS user_id,
    LogAttributes[{{key:SESSION_ID}}] AS session_id,
    LogAttributes[{{key:ML_REQUEST_ID}}] AS request_id,
    LogAttributes[{{key:ML_PREDICTION_ID}}] AS prediction_id,
    ifNull(
        toFloat64OrNull(LogAttributes[{{key:BUSINESS_VALUE}}]),
        ifNull(toFloat64OrNull(LogAttributes[{{key:ML_OUTCOME_VALUE}}]), nan)
    ) AS value,
    LogAttributes[{{key:BUSINESS_CURRENCY}}] AS currency,
    LogAttributes[{{key:ML_OUTCOME_LABEL}}] AS label,
    LogAttributes AS attributes
FROM {{db}}.otel_logs
WHERE event_name != ''
