-- Metric-tree source: a configured query with columns ts and value, bucketed like the others.
-- The marker in FROM (...) is replaced by the configured query (one SELECT, see config/sqlsource.py).
SELECT
    toStartOfInterval(toDateTime64(ts, 9, 'UTC'), toIntervalSecond({bucket:UInt32})) AS b,
    count() AS n,
    sum(toFloat64(value)) AS s,
    avg(toFloat64(value)) AS m,
    max(toDateTime64(ts, 9, 'UTC')) AS last_ts
FROM (/*SOURCE_SQL*/)
WHERE toDateTime64(ts, 9, 'UTC') >= {since:DateTime64(9, 'UTC')} AND toDateTime64(ts, 9, 'UTC') < {until:DateTime64(9, 'UTC')}
GROUP BY b
ORDER BY b
