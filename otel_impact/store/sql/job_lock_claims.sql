-- Live tokens of one analyzer job's lock (otel_impact/joblock.py): no release row, latest expiry
-- in the future. A token with more than one unreleased row (claim + confirmation/renewals) holds
-- the lock; confirmed tokens come first.
SELECT
    token,
    any(owner) AS owner,
    any(host) AS host,
    any(pid) AS pid,
    min(acquired_at) AS acquired,
    max(expires_at) AS expires,
    countIf(released = 0) > 1 AS confirmed
FROM impact_job_lock
WHERE job = {job:String}
GROUP BY token
HAVING max(released) = 0 AND expires > {now:DateTime64(6, 'UTC')}
ORDER BY confirmed DESC, acquired, token
