-- Pipeline SLO history before the evaluated range: the first pipeline.run ever seen and the
-- last successful one (n_ok = 0: none), so steps before the first run are unknown, not stale.
SELECT
    count() AS n,
    toUnixTimestamp64Nano(min(ts)) AS first_ns,
    countIf(has({statuses:Array(String)}, attributes[{k_status:String}])) AS n_ok,
    toUnixTimestamp64Nano(maxIf(ts, has({statuses:Array(String)}, attributes[{k_status:String}]))) AS last_ok_ns
FROM impact_events_typed
WHERE event_name = {event:String}
    AND attributes[{k_pipeline:String}] = {pipeline:String}
    AND ts < {start:DateTime64(9, 'UTC')}
