-- Prediction spans the demo's recommender stored in the simulated window, with their sampling
-- weight: count() must equal the spans sampled in, sum(adjusted_count) ≈ predictions served.
SELECT
    count() AS spans,
    sum(adjusted_count) AS weighted,
    countIf(adjusted_count > 1) AS reweighted
FROM impact_predictions
WHERE model_name = {model:String}
  AND ts >= {start:DateTime64(9)}
  AND ts < {end:DateTime64(9)}
