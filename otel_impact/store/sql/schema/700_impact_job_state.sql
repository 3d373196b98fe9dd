-- Analyzer job run log (one row per finished run): the watermark of job `job` is the
-- window end of its latest successful run (argMax(watermark, finished_at) WHERE status = 'ok').
CREATE TABLE IF NOT EXISTS {{db}}.impact_job_state {{on_cluster}} (
    job LowCardinality(String),
    run_id String,
    status LowCardinality(String),
    window_start DateTime64(6, 'UTC'),
    watermark DateTime64(6, 'UTC'),
    started_at DateTime64(6, 'UTC'),
    finished_at DateTime64(6, 'UTC'),
    points UInt64,
    events UInt64,
    alerts UInt32,
    message String
) ENGINE = {{engine}}
ORDER BY (job, finished_at)
