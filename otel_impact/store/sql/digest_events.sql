-- Deduplicated impact.alert / impact.incident events within a period, newest first.
SELECT EventName, Timestamp, SeverityText, Body, LogAttributes
FROM impact_events_latest
WHERE Timestamp > {since:DateTime64(9, 'UTC')} AND Timestamp <= {until:DateTime64(9, 'UTC')}
ORDER BY Timestamp DESC
LIMIT 500
