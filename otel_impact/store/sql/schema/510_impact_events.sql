-- Typed view of OTel log events (business.*, ml.outcome, gen_ai.evaluation.result, pipeline.*,
-- impact.*): one row per log record with an event name (the EventName column, else the
-- event.name attribute). A plain VIEW, so it also works over an otel_logs table a real Collector
-- created; when that table predates the EventName column only the attribute is used. Attributes
-- may be a Map column or (exporter `json: true`) a JSON one: `_a` is Map(String, String) either way.
-- value: business.value, else ml.outcome.value, else gen_ai.evaluation.score.value.
-- label: ml.outcome.label, else gen_ai.evaluation.score.label.
-- prediction_id: ml.prediction.id, else gen_ai.response.id (an evaluation or outcome of an LLM
-- response); an evaluation parented to its span joins through span_id instead.
CREATE VIEW IF NOT EXISTS {{db}}.impact_events {{on_cluster}} AS
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
