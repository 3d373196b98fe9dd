-- Fills impact_events_typed from every insert into otel_logs with the impact_events view's
-- derivation (the same included SELECT), so the typed rows equal the view's rows.
CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.impact_events_typed_mv {{on_cluster}}
TO {{db}}.impact_events_typed
AS SELECT
    ts, event_name, service_name, trace_id, span_id, user_id, session_id, request_id, prediction_id,
    value, currency, label, attributes, evaluation_name, response_id
FROM
(
{{include:events}}
)
