-- Explicit ml.deployment events in the window (model, version, announced traffic share).
SELECT
    ts,
    service_name AS service,
    attributes[{k_model:String}] AS model,
    attributes[{k_version:String}] AS version,
    toFloat64OrNull(attributes[{k_share:String}]) AS traffic_share
FROM impact_events_typed
WHERE event_name = {event:String}
    AND ts >= {start:DateTime64(9, 'UTC')} AND ts < {end:DateTime64(9, 'UTC')}
ORDER BY ts
