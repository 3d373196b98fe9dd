-- Analyzer settings that the views read (one row per setting name; the latest wins). The job
-- writes `llm.version_attributes` (which span attributes name an LLM prediction's version) at the
-- start of each run; without a row the views use semconv.DEFAULT_LLM_VERSION_ATTRIBUTES.
CREATE TABLE IF NOT EXISTS {{db}}.impact_settings {{on_cluster}} (
    name LowCardinality(String),
    value Array(String),
    updated_at DateTime64(6, 'UTC')
) ENGINE = {{engine:ReplacingMergeTree(updated_at)}}
ORDER BY name
