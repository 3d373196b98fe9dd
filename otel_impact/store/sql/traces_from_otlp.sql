-- Encoded OTLP trace requests -> otel_traces rows, converted by the engine (see store/otlp_input.py).
-- path: a file of length-delimited ExportTraceServiceRequest messages; structure: otlp_input.STRUCTURE;
-- schema: the file holding otlp_input.SCHEMA. Same rules as store/columns.py + store/encoding.py
-- (pdata AsString): doubles in Go's ES6 form, later duplicate keys win at the first key's place,
-- ids as lowercase hex ('' when empty or all zero), unknown enum numbers as Unspecified / Unset.
-- Requests with array or kvlist values never come here (otlp_input.plain_values).
INSERT INTO otel_traces (
    Timestamp, TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind, ServiceName,
    ResourceAttributes, ScopeName, ScopeVersion, SpanAttributes, Duration, StatusCode, StatusMessage,
    `Events.Timestamp`, `Events.Name`, `Events.Attributes`,
    `Links.TraceId`, `Links.SpanId`, `Links.TraceState`, `Links.Attributes`)
WITH
    (v -> coalesce(
        v.string_value,
        toString(v.int_value),
        multiIf(
            isNaN(v.double_value), 'json: unsupported value: NaN',
            isInfinite(v.double_value),
                if(v.double_value > 0, 'json: unsupported value: +Inf', 'json: unsupported value: -Inf'),
            replaceOne(replaceOne(toString(v.double_value), 'e', 'e+'), 'e+-', 'e-')),
        toString(v.bool_value),
        base64Encode(v.bytes_value),
        '')) AS value_string,
    ((keys, values) -> mapFromArrays(
        arrayDistinct(keys),
        arrayMap(k -> values[arrayLastIndex(x -> x = k, keys)], arrayDistinct(keys)))) AS to_map,
    (raw -> if(raw = '' OR raw = repeat('\0', length(raw)), '', lower(hex(raw)))) AS id_hex
SELECT
    fromUnixTimestamp64Nano(toInt64(span.start_time_unix_nano)) AS Timestamp,
    id_hex(span.trace_id) AS TraceId,
    id_hex(span.span_id) AS SpanId,
    id_hex(span.parent_span_id) AS ParentSpanId,
    span.trace_state AS TraceState,
    span.name AS SpanName,
    ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'][if(span.kind BETWEEN 0 AND 5, span.kind + 1, 1)] AS SpanKind,
    service AS ServiceName,
    resource_attributes AS ResourceAttributes,
    scope.scope.name AS ScopeName,
    scope.scope.version AS ScopeVersion,
    to_map(arrayMap(kv -> kv.key, span.attributes), arrayMap(kv -> value_string(kv.value), span.attributes)) AS SpanAttributes,
    span.end_time_unix_nano - span.start_time_unix_nano AS Duration,
    ['Unset', 'Ok', 'Error'][if(span.status.code BETWEEN 0 AND 2, span.status.code + 1, 1)] AS StatusCode,
    span.status.message AS StatusMessage,
    arrayMap(e -> fromUnixTimestamp64Nano(toInt64(e.time_unix_nano)), span.events) AS `Events.Timestamp`,
    arrayMap(e -> e.name, span.events) AS `Events.Name`,
    arrayMap(e -> to_map(arrayMap(kv -> kv.key, e.attributes), arrayMap(kv -> value_string(kv.value), e.attributes)), span.events) AS `Events.Attributes`,
    arrayMap(l -> id_hex(l.trace_id), span.links) AS `Links.TraceId`,
    arrayMap(l -> id_hex(l.span_id), span.links) AS `Links.SpanId`,
    arrayMap(l -> l.trace_state, span.links) AS `Links.TraceState`,
    arrayMap(l -> to_map(arrayMap(kv -> kv.key, l.attributes), arrayMap(kv -> value_string(kv.value), l.attributes)), span.links) AS `Links.Attributes`
FROM (
    SELECT
        resource_spans.scope_spans AS scopes,
        arrayMap(kv -> kv.key, resource_spans.resource.attributes) AS resource_keys,
        arrayMap(kv -> value_string(kv.value), resource_spans.resource.attributes) AS resource_values,
        to_map(resource_keys, resource_values) AS resource_attributes,
        -- the first service.name (parameter service_key), as the exporter's GetServiceName finds it
        resource_values[indexOf(resource_keys, {service_key:String})] AS service
    FROM file({path:String}, 'Protobuf', {structure:String})
    ARRAY JOIN resource_spans
)
ARRAY JOIN scopes AS scope
ARRAY JOIN scope.spans AS span
-- The last three settings only make this statement cheaper to plan; they apply to the materialized
-- views this insert feeds as well (same rows, see benchmarks/RESULTS.md "Receiver"): each insert
-- analyses and plans the conversion and the views' SELECTs afresh, and at a few thousand spans per
-- insert that planning is a large share of the insert. compile_expressions = 0: no LLVM
-- compilation of expressions (measured no slower for the largest batches either);
-- optimize_and_compare_chain = 0: skips an analyzer pass that derives extra comparisons from the
-- AND chains (BETWEEN, the views' conditions) for filtering we do not do here;
-- query_plan_enable_optimizations = 0: no plan rewrites, which serve reads (filter push-down, read
-- in order, projections), not a file read feeding an insert.
SETTINGS format_schema = {schema:String}, format_schema_message_name = {message:String},
    compile_expressions = 0, optimize_and_compare_chain = 0, query_plan_enable_optimizations = 0
