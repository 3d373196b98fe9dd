-- Pipeline SLO: every pipeline.run of one pipeline in the range, with whether it succeeded.
SELECT
    toUnixTimestamp64Nano(ts) AS t_ns,
    has({statuses:Array(String)}, attributes[{k_status:String}]) AS ok
FROM impact_events_typed
WHERE event_name = {event:String}
    AND attributes[{k_pipeline:String}] = {pipeline:String}
    AND ts >= {start:DateTime64(9, 'UTC')} AND ts < {end:DateTime64(9, 'UTC')}
ORDER BY t_ns
