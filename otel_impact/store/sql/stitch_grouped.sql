-- Per join key: its predictions sorted by (ts, prediction_id) as parallel numeric arrays, and its
-- outcomes. Predictions come from [start - window, end); outcomes from the OUTCOMES subquery.
-- Only two numeric arrays are aggregated per key (groupArray of numbers is much cheaper than of
-- tuples or strings, and each array costs): the sort key, which also carries ts in its top 64
-- bits, and a UInt128 payload = cell hash (high 64 bits) | adjusted count's Float64 bits (low).
-- The order is one sort by the UInt256 key = ts ns (64 bits) | the first 16 bytes of
-- prediction_id big-endian (so byte-wise order) | cityHash64(prediction_id) (ids that agree on
-- their first 16 bytes). A prediction's "cell" is cityHash64(model_name, model_version,
-- configured segment values); stitch_cells.sql maps cells back to names.
-- /*PREFILTER*/ is empty, or (for attribution, which needs only predictions some outcome can
-- reach) the condition of stitch_prefilter.sql.
-- Result: k, pts (Array(Int64) ts ns), pa (adjusted counts), pc (cells), ots, ovs (outcome ts, value).
SELECT
    k,
    arraySort((x, o) -> o, arrayZip(po, pp), po) AS s,
    arrayMap(x -> toInt64(bitShiftRight(x, 192)), tupleElement(s, 1)) AS pts,
    arrayMap(x -> reinterpretAsFloat64(toUInt64(bitAnd(x, toUInt128(18446744073709551615)))), tupleElement(s, 2)) AS pa,
    arrayMap(x -> toUInt64(bitShiftRight(x, 64)), tupleElement(s, 2)) AS pc,
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
            toString({pkey:Identifier}) AS k,
            toInt64(toUnixTimestamp64Nano(ts)) AS t,
            toUInt8(1) AS is_pred,
            bitShiftLeft(toUInt256(t), 192)
                + bitShiftLeft(toUInt256(reinterpretAsUInt128(reverse(rightPad(substring(prediction_id, 1, 16), 16, '\0')))), 64)
                + toUInt256(cityHash64(prediction_id)) AS o,
            if(isFinite(adjusted_count) AND adjusted_count >= 1, adjusted_count, 1.0) AS a,
            cityHash64(model_name, model_version, arrayMap(x -> segments[x], {seg_keys:Array(String)})) AS c,
            bitShiftLeft(toUInt128(c), 64) + toUInt128(reinterpretAsUInt64(a)) AS p,
            0.0 AS v
        FROM impact_predictions
        WHERE ts >= fromUnixTimestamp64Nano({pstart_ns:Int64})
          AND ts < fromUnixTimestamp64Nano({end_ns:Int64})
          AND k != ''
          AND (empty({models:Array(String)}) OR has({models:Array(String)}, model_name))
          /*PREFILTER*/
        UNION ALL
        SELECT k, t, toUInt8(0), toUInt256(0), 1.0, toUInt64(0), toUInt128(0), v
        FROM ( /*OUTCOMES*/ )
    )
    GROUP BY k
)
