-- Annotations for dashboards (Grafana annotation queries): incidents (model-metric anomalies with
-- their linked upstream cause), pipeline events (failed / schema-changing / late / missing runs)
-- and drift, one row per annotated time range, written by the analyzer job per run.
CREATE TABLE IF NOT EXISTS {{db}}.impact_annotations {{on_cluster}} (
    run_id String,
    window_start DateTime64(6, 'UTC'),
    window_end DateTime64(6, 'UTC'),
    kind LowCardinality(String),
    start DateTime64(6, 'UTC'),
    end DateTime64(6, 'UTC'),
    model LowCardinality(String),
    segment Map(String, String),
    title String,
    text String,
    severity LowCardinality(String)
) ENGINE = {{engine}}
ORDER BY (kind, model, start)
{{ttl:toDateTime(start)}}
