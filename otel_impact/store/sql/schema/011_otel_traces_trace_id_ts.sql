-- Collector clickhouseexporter trace-id → time-range lookup table (newest layout).
CREATE TABLE IF NOT EXISTS {{db}}.otel_traces_trace_id_ts {{on_cluster}} (
    TraceId String CODEC(ZSTD(1)),
    Start SimpleAggregateFunction(min, DateTime) CODEC(ZSTD(1)),
    End SimpleAggregateFunction(max, DateTime) CODEC(ZSTD(1))
) ENGINE = {{engine:AggregatingMergeTree()}}
PARTITION BY toStartOfWeek(Start)
ORDER BY (TraceId)
{{ttl:toDateTime(Start)}}
-- On embedded chDB (flag `embedded`) parts are merged less eagerly: merge_selector_base = 10
-- instead of 5 (see otel_impact/store/schema.py, "Merges on embedded chDB").
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1
-- @if embedded
    , merge_selector_base = 10
-- @end
