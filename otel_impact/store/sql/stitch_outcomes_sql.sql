-- Outcomes of one business metric read from a user-supplied SQL source (a table, postgresql(),
-- s3() ...), embedded below as a subquery. Columns are picked by name through identifiers.
-- Result columns: t (Int64 ns since epoch), k (join key), v (Float64 value).
SELECT t, k, v
FROM
(
    SELECT
        toInt64(toUnixTimestamp64Nano(toDateTime64(src.{ts_col:Identifier}, 9, 'UTC'))) AS t,
        toString(src.{key_col:Identifier}) AS k,
        if({count_only:UInt8} = 1, 1.0, ifNull(toFloat64(src.{value_col:Identifier}), 0.0)) AS v
    FROM ( /*SOURCE_SQL*/ ) AS src
)
WHERE t >= {start_ns:Int64} AND t < {end_ns:Int64}
