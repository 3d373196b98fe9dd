-- The SELECT of the impact_events view and of the impact_events_typed materialized view
-- (one derivation for both; see 510_impact_events.sql). Included with {{include:events}}.
WITH
-- @if logs_json
    mapFromArrays(JSONAllPaths(LogAttributes), JSONAllValues(LogAttributes)) AS _a
-- @else
    LogAttributes AS _a
-- @end
SELECT
    Timestamp AS ts,
-- @if logs_event_name
    if(EventName != '', EventName, _a[{{key:EVENT_NAME}}]) AS event_name,
-- @else
    _a[{{key:EVENT_NAME}}] AS event_name,
-- @end
    CAST(ServiceName, 'String') AS service_name,
    TraceId AS trace_id,
    SpanId AS span_id,
    _a[{{key:USER_ID}}] AS user_id,
    _a[{{key:SESSION_ID}}] AS session_id,
    _a[{{key:ML_REQUEST_ID}}] AS request_id,
    if(_a[{{key:ML_PREDICTION_ID}}] != '', _a[{{key:ML_PREDICTION_ID}}], _a[{{key:GEN_AI_RESPONSE_ID}}]) AS prediction_id,
    ifNull(
        toFloat64OrNull(_a[{{key:BUSINESS_VALUE}}]),
        ifNull(
            toFloat64OrNull(_a[{{key:ML_OUTCOME_VALUE}}]),
            ifNull(toFloat64OrNull(_a[{{key:GEN_AI_EVALUATION_SCORE_VALUE}}]), nan)
        )
    ) AS value,
    _a[{{key:BUSINESS_CURRENCY}}] AS currency,
    if(_a[{{key:ML_OUTCOME_LABEL}}] != '', _a[{{key:ML_OUTCOME_LABEL}}], _a[{{key:GEN_AI_EVALUATION_SCORE_LABEL}}]) AS label,
    _a AS attributes,
    _a[{{key:GEN_AI_EVALUATION_NAME}}] AS evaluation_name,
    _a[{{key:GEN_AI_RESPONSE_ID}}] AS response_id
FROM {{db}}.otel_logs
WHERE event_name != ''
