-- Per join key: its predictions sorted by (ts, cityHash64(prediction_id)) as parallel numeric
-- arrays, and its outcomes. Predictions come from [start - window, end); outcomes from the
-- OUTCOMES subquery. Keys are grouped by cityHash64 of the key string (a number hashes and
-- compares far faster than a string; two distinct keys sharing a 64-bit hash — odds about
-- keys² / 2^65, ~3e-8 for a million keys — would be stitched as one).
-- Only two numeric arrays are aggregated per key (groupArray of numbers is much cheaper than of
-- tuples or strings, and each array costs): the UInt128 sort key = ts ns since {pstart_ns}
-- (high 64 bits) | cityHash64(prediction_id) (low 64 bits, the documented tie order), and a
-- UInt128 payload = cell hash (high 64 bits) | adjusted count's Float64 bits (low 64 bits).
-- A prediction's "cell" (/*CELL*/, see stitch.py) is a hash of cityHash64(model_name),
-- cityHash64(model_version) and cityHash64(segments[key]) per configured segment key (hashing a
-- LowCardinality column one value at a time runs on its dictionary, and one map lookup per key
-- is cheaper than an array of them); stitch_cells.sql maps cells back to names.
-- The inner scan keeps the raw columns and filters first, so the hashing happens only on the
-- rows that pass. /*PREFILTER*/ is empty, or (for attribution, which needs only predictions some
-- outcome can reach) the condition of stitch_prefilter.sql.
-- Result: k, pts (Array(Int64) ts ns), pa (adjusted counts), pc (cells), ots, ovs (outcome ts, value).
SELECT
    k,
    arraySort(po) AS so,
    arraySort((x, o) -> o, pp, po) AS sp,
    arrayMap(x -> toInt64(bitShiftRight(x, 64)) + {pstart_ns:Int64}, so) AS pts,
    arrayMap(x -> reinterpretAsFloat64(toUInt64(bitAnd(x, toUInt128(18446744073709551615)))), sp) AS pa,
    arrayMap(x -> toUInt64(bitShiftRight(x, 64)), sp) AS pc,
    ots,
    ovs
FROM
(
    SELECT
        k,
        groupArrayIf(o, is_pred = 1) AS po,
        groupArrayIf(p, is_pred = 1) AS pp,
        groupArrayIf(t, is_pred = 0) AS ots,
        groupArrayIf(v, is_pred = 0) AS ovs
    FROM
    (
        SELECT
            k,
            t,
            toUInt8(1) AS is_pred,
            bitShiftLeft(toUInt128(t - {pstart_ns:Int64}), 64) + toUInt128(cityHash64(prediction_id)) AS o,
            if(isFinite(adjusted_count) AND adjusted_count >= 1, adjusted_count, 1.0) AS a,
            bitShiftLeft(toUInt128(/*CELL*/), 64)
                + toUInt128(reinterpretAsUInt64(a)) AS p,
            0.0 AS v
        FROM
        (
            SELECT
                cityHash64(toString({pkey:Identifier})) AS k,
                toInt64(toUnixTimestamp64Nano(ts)) AS t,
                prediction_id, adjusted_count, model_name, model_version, segments
            FROM impact_predictions_typed
            WHERE ts >= fromUnixTimestamp64Nano({pstart_ns:Int64})
              AND ts < fromUnixTimestamp64Nano({end_ns:Int64})
              AND toString({pkey:Identifier}) != ''
              AND (empty({models:Array(String)}) OR has({models:Array(String)}, model_name))
              /*PREFILTER*/
        )
        UNION ALL
        SELECT cityHash64(k), t, toUInt8(0), toUInt128(0), 1.0, toUInt128(0), v
        FROM ( /*OUTCOMES*/ )
    )
    GROUP BY k
)
