-- Typed view of OTel log events (business.*, ml.outcome, gen_ai.evaluation.result, pipeline.*,
-- impact.*): one row per log record with an event name (the EventName column, else the
-- event.name attribute). A plain VIEW, so it also works over an otel_logs table a real Collector
-- created; when that table predates the EventName column only the attribute is used. Attributes
-- may be a Map column or (exporter `json: true`) a JSON one: `_a` is Map(String, String) either way.
-- value: business.value, else ml.outcome.value, else gen_ai.evaluation.score.value.
-- label: ml.outcome.label, else gen_ai.evaluation.score.label.
-- prediction_id: ml.prediction.id, else gen_ai.response.id (an evaluation or outcome of an LLM
-- response); an evaluation parented to its span joins through span_id instead.
CREATE VIEW IF NOT EXISTS {{db}}.impact_events {{on_cluster}} AS
{{include:events}}
