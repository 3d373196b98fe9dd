-- Typed event rows: the impact_events view's rows, written once per log record at insert time by
-- impact_events_typed_mv (from otel_logs, whatever writes it). Rows that were in otel_logs before
-- the materialized view existed get here through `otel-impact schema backfill`. Sorted by event
-- name and time (readers select one event name and a time range); same day partitions and TTL as
-- the exporter tables.
CREATE TABLE IF NOT EXISTS {{db}}.impact_events_typed {{on_cluster}} (
    ts DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    event_name LowCardinality(String) CODEC(ZSTD(1)),
    service_name LowCardinality(String) CODEC(ZSTD(1)),
    trace_id String CODEC(ZSTD(1)),
    span_id String CODEC(ZSTD(1)),
    user_id String CODEC(ZSTD(1)),
    session_id String CODEC(ZSTD(1)),
    request_id String CODEC(ZSTD(1)),
    prediction_id String CODEC(ZSTD(1)),
    value Float64 CODEC(ZSTD(1)),
    currency LowCardinality(String) CODEC(ZSTD(1)),
    label String CODEC(ZSTD(1)),
    attributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    evaluation_name LowCardinality(String) CODEC(ZSTD(1)),
    response_id String CODEC(ZSTD(1))
) ENGINE = {{engine}}
PARTITION BY toDate(ts)
ORDER BY (event_name, ts)
{{ttl:toDateTime(ts)}}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1
