-- Live lock claims of one analyzer job, winner first: not expired, not released.
SELECT token, owner, host, pid, acquired_at, expires_at
FROM impact_job_lock
WHERE job = {job:String}
  AND released = 0
  AND expires_at > {now:DateTime64(6, 'UTC')}
  AND token NOT IN (SELECT token FROM impact_job_lock WHERE job = {job:String} AND released = 1)
ORDER BY acquired_at, token
