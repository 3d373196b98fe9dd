-- Analyzer job lock claims. A claim is held while not expired and no release row exists for its
-- token; among live claims the earliest (acquired_at, token) wins (insert + verification read).
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
