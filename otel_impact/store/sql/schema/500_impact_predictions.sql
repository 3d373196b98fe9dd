-- Typed view of prediction spans: one row per span carrying ml.model.name.
-- A plain VIEW, so it also works over an otel_traces table a real Collector created.
-- adjusted_count: OTel probability sampling threshold T from TraceState `ot=...th:<hex>`
-- (1–14 hex digits, right-padded with 0 to 14 digits = 56 bits), adjusted count
-- = 2^56 / (2^56 − T) (OTel spec "TraceState Probability Sampling"); else the attribute
-- sampling.adjusted_count; else 1.
CREATE VIEW IF NOT EXISTS {{db}}.impact_predictions {{on_cluster}} AS
WITH
    extract(TraceState, '(?:^|,)\\s*ot=([^,]*)') AS _ot,
    extract(_ot, '(?:^|;)th:([0-9a-f]{1,14})(?:;|$)') AS _th,
    toFloat64OrNull(SpanAttributes[{{key:SAMPLING_ADJUSTED_COUNT}}]) AS _attr_count
SELECT
    Timestamp AS ts,
    TraceId AS trace_id,
    SpanId AS span_id,
    CAST(ServiceName, 'String') AS service_name,
    SpanAttributes[{{key:ML_MODEL_NAME}}] AS model_name,
    SpanAttributes[{{key:ML_MODEL_VERSION}}] AS model_version,
    SpanAttributes[{{key:ML_PREDICTION_ID}}] AS prediction_id,
    ifNull(toFloat64OrNull(SpanAttributes[{{key:ML_PREDICTION_SCORE}}]), nan) AS score,
    SpanAttributes[{{key:ML_PREDICTION_LABEL}}] AS label,
    SpanAttributes[{{key:USER_ID}}] AS user_id,
    SpanAttributes[{{key:SESSION_ID}}] AS session_id,
    SpanAttributes[{{key:ML_REQUEST_ID}}] AS request_id,
    CAST(
        mapApply(
            (k, v) -> (substring(k, length({{key:ML_SEGMENT_PREFIX}}) + 1), v),
            mapFilter((k, v) -> startsWith(k, {{key:ML_SEGMENT_PREFIX}}), SpanAttributes)
        ),
        'Map(String, String)'
    ) AS segments,
    SpanAttributes[{{key:ML_FEATURES_HASH}}] AS features_hash,
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
    ) AS span_kind
FROM {{db}}.otel_traces
WHERE SpanAttributes[{{key:ML_MODEL_NAME}}] != ''
