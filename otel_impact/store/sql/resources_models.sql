-- Adjusted predictions per service and model in the window (splits a service's resources).
SELECT service_name AS service, model_name AS model, sum(adjusted_count) AS n
FROM impact_predictions_typed
WHERE ts >= {start:DateTime64(9, 'UTC')} AND ts < {end:DateTime64(9, 'UTC')}
    AND (empty({models:Array(String)}) OR has({models:Array(String)}, model_name))
GROUP BY service, model
ORDER BY service, model
