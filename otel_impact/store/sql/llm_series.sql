-- LLM usage per bucket of the prediction time x model x version ('' = all versions) x segment
-- ('' / '' = all users, then one row per configured segment key's value): token sums weighted
-- by the sampling weight, and the sum of span cost attributes (llm.cost.*) with the weighted
-- count of spans that carry one. Only LLM spans (source gen_ai / openinference).
SELECT
    {start_ns:Int64} + intDiv(toInt64(toUnixTimestamp64Nano(ts)) - {start_ns:Int64}, {bucket_ns:Int64}) * {bucket_ns:Int64} AS bucket_ns,
    model_name,
    ver AS model_version,
    seg.1 AS segment_key,
    seg.2 AS segment_value,
    sum(a) AS volume,
    sum(a * tin) AS input_tokens,
    sum(a * tout) AS output_tokens,
    sum(a * least(tcached, tin)) AS cached_input_tokens,
    sumIf(a * c, isFinite(c)) AS attr_cost,
    sumIf(a, isFinite(c)) AS attr_cost_spans
FROM
(
    SELECT
        ts, model_name, model_version, segments,
        input_tokens AS tin, output_tokens AS tout, cached_input_tokens AS tcached, attr_cost AS c,
        if(isFinite(adjusted_count) AND adjusted_count >= 1, adjusted_count, 1.0) AS a
    FROM impact_predictions_typed
    WHERE ts >= fromUnixTimestamp64Nano({start_ns:Int64})
      AND ts < fromUnixTimestamp64Nano({end_ns:Int64})
      AND source IN ('gen_ai', 'openinference')
      AND (empty({models:Array(String)}) OR has({models:Array(String)}, model_name))
)
ARRAY JOIN ['', model_version] AS ver
ARRAY JOIN arrayConcat([('', '')], arrayMap(x -> (x, segments[x]), {seg_keys:Array(String)})) AS seg
WHERE NOT (seg.1 != '' AND seg.2 = '')
GROUP BY bucket_ns, model_name, model_version, segment_key, segment_value
ORDER BY bucket_ns, model_name, model_version, segment_key, segment_value
