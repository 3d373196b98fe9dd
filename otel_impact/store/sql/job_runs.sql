-- Recent runs of one analyzer job (newest first), for digests and operators.
SELECT run_id, status, window_start, watermark, started_at, finished_at, points, events, alerts, message
FROM impact_job_state
WHERE job = {job:String} AND finished_at >= {since:DateTime64(6, 'UTC')}
ORDER BY finished_at DESC
LIMIT {limit:UInt32}
