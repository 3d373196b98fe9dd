-- The SELECT of the impact_predictions view and of the impact_predictions_typed materialized view
-- (one derivation for both; see 500_impact_predictions.sql). Included with {{include:predictions}}.
WITH
-- @if traces_json
    mapFromArrays(JSONAllPaths(SpanAttributes), JSONAllValues(SpanAttributes)) AS _a,
-- @else
    SpanAttributes AS _a,
-- @end
    extract(TraceState, '(?:^|,)\\s*ot=([^,]*)') AS _ot,
    extract(_ot, '(?:^|;)th:([0-9a-f]{1,14})(?:;|$)') AS _th,
    toFloat64OrNull(_a[{{key:SAMPLING_ADJUSTED_COUNT}}]) AS _attr_count,
    _a[{{key:ML_MODEL_NAME}}] AS _ml_model,
    if(_a[{{key:GEN_AI_RESPONSE_MODEL}}] != '', _a[{{key:GEN_AI_RESPONSE_MODEL}}], _a[{{key:GEN_AI_REQUEST_MODEL}}]) AS _genai_model,
    _a[{{key:GEN_AI_OPERATION_NAME}}] AS _op,
    _genai_model != '' AND (
        _op IN ({{key:GEN_AI_OP_CHAT}}, {{key:GEN_AI_OP_TEXT_COMPLETION}}, {{key:GEN_AI_OP_GENERATE_CONTENT}})
        OR (_op = '' AND _a[{{key:LLM_REQUEST_TYPE}}] IN ('chat', 'completion'))
    ) AS _is_genai,
    _a[{{key:OPENINFERENCE_SPAN_KIND}}] = {{key:OPENINFERENCE_KIND_LLM}} AND _a[{{key:LLM_MODEL_NAME}}] != '' AS _is_oi,
    multiIf(_ml_model != '', 'ml', _is_genai, 'gen_ai', _is_oi, 'openinference', '') AS _source,
    (
        SELECT argMax(value, updated_at) FROM {{db}}.impact_settings
        WHERE name = {{key:SETTING_LLM_VERSION_ATTRIBUTES}}
    ) AS _vset,
    if(
        empty(_vset),
        [{{key:ML_MODEL_VERSION}}, {{key:LLM_PROMPT_TEMPLATE_VERSION}}, {{key:GEN_AI_PROMPT_NAME}}, {{key:GEN_AI_AGENT_VERSION}}],
        _vset
    ) AS _vkeys,
    multiIf(
        _a[{{key:GEN_AI_RESPONSE_ID}}] != '', _a[{{key:GEN_AI_RESPONSE_ID}}],
        _is_oi, JSONExtractString(_a[{{key:OPENINFERENCE_OUTPUT_VALUE}}], 'id'),
        ''
    ) AS _response_id,
    toFloat64OrNull(_a[{{key:LLM_COST_TOTAL}}]) AS _cost_total,
    toFloat64OrNull(_a[{{key:LLM_COST_PROMPT}}]) + toFloat64OrNull(_a[{{key:LLM_COST_COMPLETION}}]) AS _cost_parts
SELECT
    Timestamp AS ts,
    TraceId AS trace_id,
    SpanId AS span_id,
    CAST(ServiceName, 'String') AS service_name,
    multiIf(_source = 'ml', _ml_model, _source = 'gen_ai', _genai_model, _a[{{key:LLM_MODEL_NAME}}]) AS model_name,
    if(_source = 'ml', _a[{{key:ML_MODEL_VERSION}}], _a[arrayFirst(k -> _a[k] != '', _vkeys)]) AS model_version,
    multiIf(
        _a[{{key:ML_PREDICTION_ID}}] != '' OR _source = 'ml', _a[{{key:ML_PREDICTION_ID}}],
        _response_id != '', _response_id,
        SpanId
    ) AS prediction_id,
    ifNull(toFloat64OrNull(_a[{{key:ML_PREDICTION_SCORE}}]), nan) AS score,
    _a[{{key:ML_PREDICTION_LABEL}}] AS label,
    if(_source = 'ml' OR _a[{{key:USER_ID}}] != '', _a[{{key:USER_ID}}], _a[{{key:ENDUSER_ID}}]) AS user_id,
    if(_source = 'ml' OR _a[{{key:SESSION_ID}}] != '', _a[{{key:SESSION_ID}}], _a[{{key:GEN_AI_CONVERSATION_ID}}]) AS session_id,
    _a[{{key:ML_REQUEST_ID}}] AS request_id,
    CAST(
        mapApply(
            (k, v) -> (substring(k, length({{key:ML_SEGMENT_PREFIX}}) + 1), v),
            mapFilter((k, v) -> startsWith(k, {{key:ML_SEGMENT_PREFIX}}), _a)
        ),
        'Map(String, String)'
    ) AS segments,
    _a[{{key:ML_FEATURES_HASH}}] AS features_hash,
    toFloat64(multiIf(
        _th != '',
        exp2(56) / toFloat64(toUInt64(72057594037927936) - reinterpretAsUInt64(reverse(unhex(rightPad(_th, 14, '0'))))),
        isNotNull(_attr_count) AND isFinite(assumeNotNull(_attr_count)) AND assumeNotNull(_attr_count) >= 1,
        assumeNotNull(_attr_count),
        1.0
    )) AS adjusted_count,
    Duration AS duration_ns,
    toUInt8(CAST(StatusCode, 'String') IN ('Error', 'STATUS_CODE_ERROR')) AS is_error,
    transform(
        CAST(SpanKind, 'String'),
        ['SPAN_KIND_UNSPECIFIED', 'SPAN_KIND_INTERNAL', 'SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT', 'SPAN_KIND_PRODUCER', 'SPAN_KIND_CONSUMER'],
        ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'],
        CAST(SpanKind, 'String')
    ) AS span_kind,
    _source AS source,
    multiIf(
        _a[{{key:GEN_AI_PROVIDER_NAME}}] != '', _a[{{key:GEN_AI_PROVIDER_NAME}}],
        _a[{{key:GEN_AI_SYSTEM}}] != '', _a[{{key:GEN_AI_SYSTEM}}],
        _a[{{key:LLM_PROVIDER}}] != '', _a[{{key:LLM_PROVIDER}}],
        _a[{{key:LLM_SYSTEM}}]
    ) AS provider,
    _response_id AS response_id,
    toFloat64(greatest(0, ifNull(coalesce(
        toFloat64OrNull(_a[{{key:GEN_AI_USAGE_INPUT_TOKENS}}]),
        toFloat64OrNull(_a[{{key:GEN_AI_USAGE_PROMPT_TOKENS}}]),
        toFloat64OrNull(_a[{{key:LLM_TOKEN_COUNT_PROMPT}}])
    ), 0))) AS input_tokens,
    toFloat64(greatest(0, ifNull(coalesce(
        toFloat64OrNull(_a[{{key:GEN_AI_USAGE_OUTPUT_TOKENS}}]),
        toFloat64OrNull(_a[{{key:GEN_AI_USAGE_COMPLETION_TOKENS}}]),
        toFloat64OrNull(_a[{{key:LLM_TOKEN_COUNT_COMPLETION}}])
    ), 0))) AS output_tokens,
    toFloat64(greatest(0, ifNull(coalesce(
        toFloat64OrNull(_a[{{key:GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS}}]),
        toFloat64OrNull(_a[{{key:GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS_OLD}}]),
        toFloat64OrNull(_a[{{key:LLM_TOKEN_COUNT_CACHE_READ}}])
    ), 0))) AS cached_input_tokens,
    toFloat64(ifNull(coalesce(_cost_total, _cost_parts), nan)) AS attr_cost,
    CAST(_a, 'Map(String, String)') AS attributes
FROM {{db}}.otel_traces
WHERE _source != ''
