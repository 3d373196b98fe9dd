-- Model metrics per bucket for anomaly detection: one row per (model, bucket, segment key, value);
-- seg_key = '' is all users. Bucket b = intDiv(ts − start, bucket) over [start, end).
-- Ground truth: the latest ml.outcome event per prediction_id (label "1"/"true"/… = 1,
-- "0"/"false"/… = 0, else ml.outcome.value 1/0), read up to {label_until_ns} so late labels count.
-- volume, mean_score, accuracy and error_rate are weighted by adjusted_count (sampling);
-- AUC (arrayAUC, ties count ½) and latency p95 are over the sampled spans unweighted.
WITH outcomes AS (
    SELECT
        prediction_id,
        argMax(
            multiIf(
                lower(label) IN ('1', 'true', 'yes', 'positive'), 1,
                lower(label) IN ('0', 'false', 'no', 'negative'), 0,
                isFinite(value) AND value = 1, 1,
                isFinite(value) AND value = 0, 0,
                -1
            ),
            ts
        ) AS y
    FROM impact_events_typed
    WHERE event_name = {outcome_event:String}
      AND prediction_id != ''
      AND ts >= fromUnixTimestamp64Nano({start_ns:Int64})
      AND ts < fromUnixTimestamp64Nano({label_until_ns:Int64})
    GROUP BY prediction_id
)
SELECT
    p.model_name AS model,
    toInt64(intDiv(toUnixTimestamp64Nano(p.ts) - {start_ns:Int64}, {bucket_ns:Int64})) AS b,
    seg.1 AS seg_key,
    seg.2 AS seg_value,
    sum(p.adjusted_count) AS volume,
    sumIf(p.adjusted_count * p.score, isFinite(p.score)) / nullIf(sumIf(p.adjusted_count, isFinite(p.score)), 0) AS mean_score,
    sum(p.adjusted_count * p.is_error) / sum(p.adjusted_count) AS error_rate,
    quantileExact(0.95)(p.duration_ns) / 1e6 AS latency_p95,
    countIf(o.y >= 0 AND isFinite(p.score)) AS n_labeled,
    sumIf(p.adjusted_count * toFloat64((p.score >= {threshold:Float64}) = (o.y = 1)), o.y >= 0 AND isFinite(p.score))
        / nullIf(sumIf(p.adjusted_count, o.y >= 0 AND isFinite(p.score)), 0) AS accuracy,
    arrayAUC(
        groupArrayIf(p.score, o.y >= 0 AND isFinite(p.score)),
        groupArrayIf(toUInt8(o.y), o.y >= 0 AND isFinite(p.score))
    ) AS auc
FROM impact_predictions_typed AS p
LEFT JOIN outcomes AS o ON p.prediction_id = o.prediction_id
ARRAY JOIN arrayConcat(
    [('', '')],
    arrayFilter(kv -> has({segment_keys:Array(String)}, kv.1), arrayZip(mapKeys(p.segments), mapValues(p.segments)))
) AS seg
WHERE p.ts >= fromUnixTimestamp64Nano({start_ns:Int64})
  AND p.ts < fromUnixTimestamp64Nano({end_ns:Int64})
  AND (empty({models:Array(String)}) OR has({models:Array(String)}, p.model_name))
GROUP BY model, b, seg_key, seg_value
ORDER BY model, seg_key, seg_value, b
