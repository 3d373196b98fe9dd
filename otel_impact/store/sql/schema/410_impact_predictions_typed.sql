-- Typed prediction rows: the columns of the impact_predictions view that the analyzer, the plan
-- checks and the dashboards read, written once per span at insert time by
-- impact_predictions_typed_mv (from otel_traces, whatever writes it) instead of being derived from
-- the attribute maps on every read. The full attribute map is not copied (readers that need an
-- arbitrary span attribute read the view). Rows that were in otel_traces before the materialized
-- view existed get here through `otel-impact schema backfill`.
-- model_version of LLM spans follows the `llm.version_attributes` setting in force when the span
-- was inserted; changing the setting re-derives those rows (store.llm.write_version_attributes).
-- Sorted by (model, time) inside day partitions, the exporter tables' partitions and TTL: readers
-- select a time range and often one model. (Sorting by a user-id hash instead made no measurable
-- difference to the stitching, see benchmarks/RESULTS.md.)
CREATE TABLE IF NOT EXISTS {{db}}.impact_predictions_typed {{on_cluster}} (
    ts DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    trace_id String CODEC(ZSTD(1)),
    span_id String CODEC(ZSTD(1)),
    service_name LowCardinality(String) CODEC(ZSTD(1)),
    model_name LowCardinality(String) CODEC(ZSTD(1)),
    model_version LowCardinality(String) CODEC(ZSTD(1)),
    prediction_id String CODEC(ZSTD(1)),
    score Float64 CODEC(ZSTD(1)),
    label String CODEC(ZSTD(1)),
    user_id String CODEC(ZSTD(1)),
    session_id String CODEC(ZSTD(1)),
    request_id String CODEC(ZSTD(1)),
    segments Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    features_hash String CODEC(ZSTD(1)),
    adjusted_count Float64 CODEC(ZSTD(1)),
    duration_ns UInt64 CODEC(T64, ZSTD(1)),
    is_error UInt8 CODEC(ZSTD(1)),
    span_kind LowCardinality(String) CODEC(ZSTD(1)),
    source LowCardinality(String) CODEC(ZSTD(1)),
    provider LowCardinality(String) CODEC(ZSTD(1)),
    response_id String CODEC(ZSTD(1)),
    input_tokens Float64 CODEC(ZSTD(1)),
    output_tokens Float64 CODEC(ZSTD(1)),
    cached_input_tokens Float64 CODEC(ZSTD(1)),
    attr_cost Float64 CODEC(ZSTD(1))
) ENGINE = {{engine}}
PARTITION BY toDate(ts)
ORDER BY (model_name, ts)
{{ttl:toDateTime(ts)}}
-- On embedded chDB (flag `embedded`) parts are merged less eagerly: merge_selector_base = 10
-- instead of 5 (see otel_impact/store/schema.py, "Merges on embedded chDB").
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1
-- @if embedded
    , merge_selector_base = 10
-- @end
