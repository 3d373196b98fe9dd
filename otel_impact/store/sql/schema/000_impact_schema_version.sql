-- One row per schema object created or (for our views) replaced by `otel-impact schema apply`.
CREATE TABLE IF NOT EXISTS {{db}}.impact_schema_version {{on_cluster}} (
    version UInt32,
    object LowCardinality(String),
    kind LowCardinality(String),
    checksum String,
    applied_at DateTime64(3),
    package_version LowCardinality(String)
) ENGINE = {{engine}}
ORDER BY (object, applied_at)
