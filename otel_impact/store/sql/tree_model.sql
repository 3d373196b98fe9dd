-- Metric-tree source: predictions of one model, bucketed (n = s = weighted count, m = mean score).
SELECT
    toStartOfInterval(ts, toIntervalSecond({bucket:UInt32})) AS b,
    sum(adjusted_count) AS n,
    sum(adjusted_count) AS s,
    sumIf(score * adjusted_count, NOT isNaN(score)) / nullIf(sumIf(adjusted_count, NOT isNaN(score)), 0) AS m,
    max(ts) AS last_ts
FROM impact_predictions_typed
WHERE model_name = {name:String} AND ts >= {since:DateTime64(9, 'UTC')} AND ts < {until:DateTime64(9, 'UTC')}
GROUP BY b
ORDER BY b
