-- A custom metric: any query returning a timestamp column and a value column, aggregated per
-- bucket of [start, end) with the configured aggregate (sum, avg, max, min).
SELECT
    {start_ns:Int64} + intDiv(toInt64(toUnixTimestamp64Nano(toDateTime64(src.{ts_col:Identifier}, 9))) - {start_ns:Int64}, {bucket_ns:Int64}) * {bucket_ns:Int64} AS bucket_ns,
    multiIf(
        {agg:String} = 'avg', avg(toFloat64(src.{value_col:Identifier})),
        {agg:String} = 'max', max(toFloat64(src.{value_col:Identifier})),
        {agg:String} = 'min', min(toFloat64(src.{value_col:Identifier})),
        sum(toFloat64(src.{value_col:Identifier}))
    ) AS value
FROM ( /*CUSTOM_SQL*/ ) AS src
WHERE toDateTime64(src.{ts_col:Identifier}, 9) >= fromUnixTimestamp64Nano({start_ns:Int64})
  AND toDateTime64(src.{ts_col:Identifier}, 9) < fromUnixTimestamp64Nano({end_ns:Int64})
GROUP BY bucket_ns
ORDER BY bucket_ns
