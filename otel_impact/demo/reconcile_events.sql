-- OTel log events stored in the simulated window, per event name (business events, ground
-- truth, pipeline events), with the sum of their values.
SELECT
    event_name,
    count() AS events,
    sumIf(value, isFinite(value)) AS value
FROM impact_events
WHERE ts >= {start:DateTime64(9)}
  AND ts < {end:DateTime64(9)}
GROUP BY event_name
ORDER BY event_name
