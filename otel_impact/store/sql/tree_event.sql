-- Metric-tree source: OTel events with one EventName, bucketed (n = events, s = sum, m = mean value).
SELECT
    toStartOfInterval(ts, toIntervalSecond({bucket:UInt32})) AS b,
    count() AS n,
    sumIf(value, NOT isNaN(value)) AS s,
    avgIf(value, NOT isNaN(value)) AS m,
    max(ts) AS last_ts
FROM impact_events_typed
WHERE event_name = {name:String} AND ts >= {since:DateTime64(9, 'UTC')} AND ts < {until:DateTime64(9, 'UTC')}
GROUP BY b
ORDER BY b
