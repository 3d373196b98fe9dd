-- Feature-flag evaluations, one row each, from the three places they are found:
--   * `feature_flag.evaluation` log events (OTel feature-flag conventions),
--   * `feature_flag.evaluation` span events (what OpenFeature's OpenTelemetry hook records on the
--     current span),
--   * spans carrying feature_flag.key / feature_flag.result.variant attributes.
-- variant: feature_flag.result.variant, else feature_flag.result.value. user_id: the
-- evaluation's user.id, else feature_flag.context.id (the targeting key), else (span events) the
-- span's user.id. Attribute columns may be Map or JSON (exporter `json: true`).
CREATE VIEW IF NOT EXISTS {{db}}.impact_flag_evaluations {{on_cluster}} AS
SELECT ts, flag_key, variant, context_id, user_id, provider, trace_id, span_id, origin
FROM
(
    SELECT ts, flag_key, variant, context_id, user_id, provider, trace_id, span_id, origin
    FROM
    (
        WITH
-- @if logs_json
            mapFromArrays(JSONAllPaths(LogAttributes), JSONAllValues(LogAttributes)) AS _a
-- @else
            LogAttributes AS _a
-- @end
        SELECT
            Timestamp AS ts,
            _a[{{key:FEATURE_FLAG_KEY}}] AS flag_key,
            if(_a[{{key:FEATURE_FLAG_VARIANT}}] != '', _a[{{key:FEATURE_FLAG_VARIANT}}], _a[{{key:FEATURE_FLAG_RESULT_VALUE}}]) AS variant,
            _a[{{key:FEATURE_FLAG_CONTEXT_ID}}] AS context_id,
            if(_a[{{key:USER_ID}}] != '', _a[{{key:USER_ID}}], context_id) AS user_id,
            _a[{{key:FEATURE_FLAG_PROVIDER_NAME}}] AS provider,
            TraceId AS trace_id,
            SpanId AS span_id,
            'log_event' AS origin
        FROM {{db}}.otel_logs
-- @if logs_event_name
        WHERE if(EventName != '', EventName, _a[{{key:EVENT_NAME}}]) = {{key:EVENT_FEATURE_FLAG_EVALUATION}}
-- @else
        WHERE _a[{{key:EVENT_NAME}}] = {{key:EVENT_FEATURE_FLAG_EVALUATION}}
-- @end
    )
    UNION ALL
    SELECT ts, flag_key, variant, context_id, user_id, provider, trace_id, span_id, origin
    FROM
    (
        WITH
-- @if traces_json
            mapFromArrays(JSONAllPaths(ev.2), JSONAllValues(ev.2)) AS _a,
            mapFromArrays(JSONAllPaths(SpanAttributes), JSONAllValues(SpanAttributes))[{{key:USER_ID}}] AS _span_user
-- @else
            ev.2 AS _a,
            SpanAttributes[{{key:USER_ID}}] AS _span_user
-- @end
        SELECT
            ev.1 AS ts,
            _a[{{key:FEATURE_FLAG_KEY}}] AS flag_key,
            if(_a[{{key:FEATURE_FLAG_VARIANT}}] != '', _a[{{key:FEATURE_FLAG_VARIANT}}], _a[{{key:FEATURE_FLAG_RESULT_VALUE}}]) AS variant,
            _a[{{key:FEATURE_FLAG_CONTEXT_ID}}] AS context_id,
            multiIf(_a[{{key:USER_ID}}] != '', _a[{{key:USER_ID}}], context_id != '', context_id, _span_user) AS user_id,
            _a[{{key:FEATURE_FLAG_PROVIDER_NAME}}] AS provider,
            TraceId AS trace_id,
            SpanId AS span_id,
            'span_event' AS origin
        FROM {{db}}.otel_traces
        ARRAY JOIN arrayZip(Events.Timestamp, Events.Attributes, Events.Name) AS ev
        WHERE ev.3 = {{key:EVENT_FEATURE_FLAG_EVALUATION}}
    )
    UNION ALL
    SELECT ts, flag_key, variant, context_id, user_id, provider, trace_id, span_id, origin
    FROM
    (
        WITH
-- @if traces_json
            mapFromArrays(JSONAllPaths(SpanAttributes), JSONAllValues(SpanAttributes)) AS _a
-- @else
            SpanAttributes AS _a
-- @end
        SELECT
            Timestamp AS ts,
            _a[{{key:FEATURE_FLAG_KEY}}] AS flag_key,
            if(_a[{{key:FEATURE_FLAG_VARIANT}}] != '', _a[{{key:FEATURE_FLAG_VARIANT}}], _a[{{key:FEATURE_FLAG_RESULT_VALUE}}]) AS variant,
            _a[{{key:FEATURE_FLAG_CONTEXT_ID}}] AS context_id,
            if(_a[{{key:USER_ID}}] != '', _a[{{key:USER_ID}}], context_id) AS user_id,
            _a[{{key:FEATURE_FLAG_PROVIDER_NAME}}] AS provider,
            TraceId AS trace_id,
            SpanId AS span_id,
            'span_attribute' AS origin
        FROM {{db}}.otel_traces
        WHERE _a[{{key:FEATURE_FLAG_KEY}}] != ''
    )
)
WHERE flag_key != ''
