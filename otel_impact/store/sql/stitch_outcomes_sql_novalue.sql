-- Like stitch_outcomes_sql.sql for a source without a value column: every row is worth 1.
SELECT t, k, v
FROM
(
    SELECT
        toInt64(toUnixTimestamp64Nano(toDateTime64(src.{ts_col:Identifier}, 9, 'UTC'))) AS t,
        toString(src.{key_col:Identifier}) AS k,
        1.0 AS v
    FROM ( /*SOURCE_SQL*/ ) AS src
)
WHERE t >= {start_ns:Int64} AND t < {end_ns:Int64}
