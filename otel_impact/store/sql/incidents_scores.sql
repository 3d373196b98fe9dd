-- Per (model, bucket): a deterministic sample of up to {sample} scores (those whose span has the
-- smallest cityHash64 — a uniform sample that is the same on every run), the number of distinct
-- feature hashes, and how many of them never occurred in the reference period (before {ref_end_ns}).
-- The sample key packs the hash's high 32 bits with the score as Float32 into one UInt64, which
-- groupArraySorted sorts ~3× faster than a (hash, score) tuple; scores come back as Float32 values.
SELECT
    model_name AS model,
    toInt64(intDiv(toUnixTimestamp64Nano(ts) - {start_ns:Int64}, {bucket_ns:Int64})) AS b,
    count() AS n,
    arrayMap(
        k -> toFloat64(reinterpretAsFloat32(toUInt32(bitAnd(k, 4294967295)))),
        groupArraySorted({sample:UInt32})(
            bitOr(bitAnd(cityHash64(trace_id, span_id), 18446744069414584320), toUInt64(reinterpretAsUInt32(toFloat32(score))))
        )
    ) AS scores,
    uniqExactIf(features_hash, features_hash != '') AS n_hashes,
    uniqExactIf(
        features_hash,
        features_hash != '' AND (model_name, features_hash) NOT IN (
            SELECT model_name, features_hash
            FROM impact_predictions_typed
            WHERE ts >= fromUnixTimestamp64Nano({start_ns:Int64})
              AND ts < fromUnixTimestamp64Nano({ref_end_ns:Int64})
              AND features_hash != ''
        )
    ) AS n_new_hashes
FROM impact_predictions_typed
WHERE ts >= fromUnixTimestamp64Nano({start_ns:Int64})
  AND ts < fromUnixTimestamp64Nano({end_ns:Int64})
  AND isFinite(score)
  AND (empty({models:Array(String)}) OR has({models:Array(String)}, model_name))
GROUP BY model, b
ORDER BY model, b
