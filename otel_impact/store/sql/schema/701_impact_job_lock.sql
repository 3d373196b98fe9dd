-- Analyzer job lock rows (claim, renewals, release) of otel_impact/joblock.py. A token is live while
-- it has no release row and its latest expires_at is in the future; see the module for the protocol.
-- Claims are dropped 30 days after they expired (TTL).
CREATE TABLE IF NOT EXISTS {{db}}.impact_job_lock {{on_cluster}} (
    job LowCardinality(String),
    token String,
    owner String,
    host String,
    pid UInt32,
    acquired_at DateTime64(6, 'UTC'),
    expires_at DateTime64(6, 'UTC'),
    released UInt8
) ENGINE = {{engine}}
ORDER BY (job, acquired_at, token)
TTL toDateTime(expires_at) + toIntervalDay(30)
