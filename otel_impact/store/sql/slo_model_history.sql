-- Model-endpoint SLO history: whether the model served any prediction before the evaluated range.
SELECT count() AS n
FROM impact_predictions_typed
WHERE model_name = {model:String}
    AND ts < {start:DateTime64(9, 'UTC')}
