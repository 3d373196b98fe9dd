-- Outcomes of one business metric read from OTel log events (impact_events).
-- Result columns: t (Int64 ns since epoch), k (join key, '' when absent), v (Float64 value).
-- {okey} is the event column holding the join key (user_id, session_id, request_id, prediction_id).
SELECT
    toInt64(toUnixTimestamp64Nano(ts)) AS t,
    toString({okey:Identifier}) AS k,
    if({count_only:UInt8} = 1, 1.0, if(isFinite(value), value, 0.0)) AS v
FROM impact_events_typed
WHERE event_name = {event:String}
  AND ts >= fromUnixTimestamp64Nano({start_ns:Int64})
  AND ts < fromUnixTimestamp64Nano({end_ns:Int64})
