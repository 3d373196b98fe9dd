-- Online model quality per bucket of the prediction time x model x version x segment, from
-- ml.outcome ground truth joined on prediction_id. A label is "1"/"true" (positive) or
-- "0"/"false" (negative); without a label an outcome value of exactly 0 or 1 is used; the last
-- outcome per prediction wins. With llm.ground_truth_evaluation, gen_ai.evaluation.result events
-- of that evaluator count as outcomes too (their score label; pass/fail, correct/incorrect, yes/no
-- are read as 1/0; they join through gen_ai.response.id). Score >= threshold predicts positive. Counts are weighted by
-- adjusted_count; AUC (arrayAUC, the rank formula) is unweighted; calibration error is the
-- expected calibration error over 10 equal-width score bins: sum over bins |sum(score - y)| / n.
-- Each labelled prediction is aggregated once, into its finest cell (bucket x model x version x
-- the values of every segment key); the all-versions and per-segment rows are merged from those
-- cells' partial sums, (score, y) lists and calibration-bin sums.
SELECT
    bucket_ns,
    model_name,
    ver AS model_version,
    seg.1 AS segment_key,
    seg.2 AS segment_value,
    sum(cell_labeled) AS labeled,
    sum(cell_correct) AS correct,
    sum(cell_tp) AS tp,
    sum(cell_fp) AS fp,
    sum(cell_fn) AS fn,
    arrayAUC(arrayMap(x -> x.1, groupArrayMerge(cell_scored)), arrayMap(x -> x.2, groupArrayMerge(cell_scored))) AS auc,
    arraySum(x -> abs(x), (sumMapMerge(cell_bins)).2) / sum(cell_labeled) AS calibration_error
FROM
(
    SELECT
        {start_ns:Int64} + intDiv(toInt64(toUnixTimestamp64Nano(ts)) - {start_ns:Int64}, {bucket_ns:Int64}) * {bucket_ns:Int64} AS bucket_ns,
        model_name,
        model_version,
        arrayMap(x -> segments[x], {seg_keys:Array(String)}) AS segs,
        sum(a) AS cell_labeled,
        sumIf(a, pred = y) AS cell_correct,
        sumIf(a, pred = 1 AND y = 1) AS cell_tp,
        sumIf(a, pred = 1 AND y = 0) AS cell_fp,
        sumIf(a, pred = 0 AND y = 1) AS cell_fn,
        groupArrayState((score, y)) AS cell_scored,
        sumMapState([toUInt8(least(greatest(floor(score * 10), 0), 9))], [a * (score - y)]) AS cell_bins
    FROM
    (
        SELECT
            p.ts AS ts, p.model_name AS model_name, p.model_version AS model_version, p.segments AS segments,
            p.score AS score, toUInt8(p.score >= {threshold:Float64}) AS pred, l.y AS y,
            if(isFinite(p.adjusted_count) AND p.adjusted_count >= 1, p.adjusted_count, 1.0) AS a
        FROM impact_predictions_typed AS p
        INNER JOIN
        (
            SELECT
                prediction_id,
                argMax(
                    multiIf(
                        lower(label) IN ('1', 'true', 'pass', 'correct', 'yes'), 1,
                        lower(label) IN ('0', 'false', 'fail', 'incorrect', 'no'), 0,
                        label = '' AND value = 1, 1,
                        label = '' AND value = 0, 0,
                        -1
                    ),
                    ts
                ) AS y
            FROM impact_events_typed
            WHERE (
                    event_name = {outcome_event:String}
                    OR (event_name = {evaluation_event:String} AND {ground_truth:String} != ''
                        AND evaluation_name = {ground_truth:String})
                )
              AND prediction_id != ''
              AND ts < fromUnixTimestamp64Nano({end_ns:Int64})
            GROUP BY prediction_id
            HAVING y >= 0
        ) AS l ON p.prediction_id = l.prediction_id
        WHERE p.ts >= fromUnixTimestamp64Nano({start_ns:Int64})
          AND p.ts < fromUnixTimestamp64Nano({end_ns:Int64})
          AND isFinite(p.score)
          AND p.prediction_id != ''
          AND (empty({models:Array(String)}) OR has({models:Array(String)}, p.model_name))
    )
    GROUP BY bucket_ns, model_name, model_version, segs
)
ARRAY JOIN ['', model_version] AS ver
ARRAY JOIN arrayConcat([('', '')], arrayZip({seg_keys:Array(String)}, segs)) AS seg
WHERE NOT (seg.1 != '' AND seg.2 = '')
GROUP BY bucket_ns, model_name, model_version, segment_key, segment_value
ORDER BY bucket_ns, model_name, model_version, segment_key, segment_value
