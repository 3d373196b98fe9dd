-- Watermark of one analyzer job: window end of its latest successful run (n = 0: never ran).
SELECT argMax(watermark, finished_at) AS watermark, count() AS n
FROM impact_job_state
WHERE job = {job:String} AND status = 'ok'
