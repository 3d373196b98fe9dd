-- Mean evaluation score per bucket of the EVALUATED prediction's time x model x version x
-- segment x evaluator, from gen_ai.evaluation.result events (and any event named
-- {event:String}). An evaluation joins its prediction through the span it is parented to
-- (span_id), else through gen_ai.response.id / ml.prediction.id (prediction_id). Scores are
-- gen_ai.evaluation.score.value (the events view's value); NaN scores are skipped. The last
-- evaluation per prediction and evaluator counts. Means are weighted by the sampling weight.
SELECT
    {start_ns:Int64} + intDiv(toInt64(toUnixTimestamp64Nano(ts)) - {start_ns:Int64}, {bucket_ns:Int64}) * {bucket_ns:Int64} AS bucket_ns,
    model_name,
    ver AS model_version,
    seg.1 AS segment_key,
    seg.2 AS segment_value,
    evaluator,
    sum(a) AS evaluated,
    sum(a * score) / sum(a) AS mean_score
FROM
(
    -- one row per evaluated prediction and evaluator (a prediction reached both ways counts once)
    SELECT p.span_id AS span_id, e.evaluator AS evaluator, any(p.ts) AS ts, any(p.model_name) AS model_name,
           any(p.model_version) AS model_version, any(p.segments) AS segments, any(p.a) AS a,
           argMax(e.score, e.last_ts) AS score
    FROM
    (
        SELECT
            ts, span_id, model_name, model_version, segments, target,
            if(isFinite(adjusted_count) AND adjusted_count >= 1, adjusted_count, 1.0) AS a
        FROM impact_predictions_typed
        ARRAY JOIN [concat('s:', span_id), if(prediction_id != '', concat('p:', prediction_id), '')] AS target
        WHERE ts >= fromUnixTimestamp64Nano({start_ns:Int64})
          AND ts < fromUnixTimestamp64Nano({end_ns:Int64})
          AND target != ''
          AND (empty({models:Array(String)}) OR has({models:Array(String)}, model_name))
    ) AS p
    INNER JOIN
    (
        SELECT target, evaluator, argMax(value, ts) AS score, max(ts) AS last_ts
        FROM
        (
            SELECT if(span_id != '', concat('s:', span_id), concat('p:', prediction_id)) AS target,
                   evaluation_name AS evaluator, value, ts
            FROM impact_events_typed
            WHERE event_name = {event:String}
              AND evaluation_name != ''
              AND (span_id != '' OR prediction_id != '')
              AND ts >= fromUnixTimestamp64Nano({start_ns:Int64})
              AND ts < fromUnixTimestamp64Nano({events_end_ns:Int64})
        )
        GROUP BY target, evaluator
        HAVING isFinite(score)
    ) AS e ON e.target = p.target
    GROUP BY span_id, evaluator
)
ARRAY JOIN ['', model_version] AS ver
ARRAY JOIN arrayConcat([('', '')], arrayMap(x -> (x, segments[x]), {seg_keys:Array(String)})) AS seg
WHERE NOT (seg.1 != '' AND seg.2 = '')
GROUP BY bucket_ns, model_name, model_version, segment_key, segment_value, evaluator
ORDER BY bucket_ns, model_name, model_version, segment_key, segment_value, evaluator
