-- Fills impact_predictions_typed from every insert into otel_traces with the impact_predictions
-- view's derivation (the same included SELECT), so the typed rows equal the view's rows. The
-- `llm.version_attributes` subquery is evaluated per insert block: the setting in force then.
CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.impact_predictions_typed_mv {{on_cluster}}
TO {{db}}.impact_predictions_typed
AS SELECT
    ts, trace_id, span_id, service_name, model_name, model_version, prediction_id, score, label,
    user_id, session_id, request_id, segments, features_hash, adjusted_count, duration_ns, is_error,
    span_kind, source, provider, response_id, input_tokens, output_tokens, cached_input_tokens,
    attr_cost
FROM
(
{{include:predictions}}
)
