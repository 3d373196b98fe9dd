"""Semantic conventions: every span, metric, attribute, event and environment name used by otel-impact.

This module is the contract between instrumentation, storage and analysis. Nothing else in the
package spells an attribute key as a string literal; import it from here. Where the OpenTelemetry
registry already has a name (``user.id``, ``session.id``) that name is used.

>>> from otel_impact import semconv
>>> semconv.segment_attribute("platform")
'ml.segment.platform'
"""

from __future__ import annotations

from typing import Final

# --- scope -----------------------------------------------------------------------------------
INSTRUMENTATION_SCOPE: Final = "otel_impact"
ANALYZER_SCOPE: Final = "otel_impact.analyzer"
RECEIVER_SCOPE: Final = "otel_impact.receiver"

# --- prediction spans ------------------------------------------------------------------------
PREDICTION_SPAN_PREFIX: Final = "predict "  # span name: f"predict {ml.model.name}"

ML_MODEL_NAME: Final = "ml.model.name"
ML_MODEL_VERSION: Final = "ml.model.version"
ML_PREDICTION_ID: Final = "ml.prediction.id"
ML_PREDICTION_SCORE: Final = "ml.prediction.score"
ML_PREDICTION_LABEL: Final = "ml.prediction.label"
ML_REQUEST_ID: Final = "ml.request.id"
ML_FEATURES_HASH: Final = "ml.features.hash"
ML_FEATURES_COUNT: Final = "ml.features.count"
ML_FEATURES_MISSING: Final = "ml.features.missing"
ML_PREDICTION_COUNT: Final = "ml.prediction.count"  # rows scored by one batch prediction span
ERROR_TYPE: Final = "error.type"  # OTel registry: exception class on failed predictions
ML_SEGMENT_PREFIX: Final = "ml.segment."
USER_ID: Final = "user.id"
SESSION_ID: Final = "session.id"

# sampling: W3C tracestate "ot=th:<hex>" (OTel probability sampling); fallback attribute
TRACESTATE_OT_KEY: Final = "ot"
TRACESTATE_THRESHOLD_KEY: Final = "th"
SAMPLING_ADJUSTED_COUNT: Final = "sampling.adjusted_count"

# --- events (OTel log records with EventName) -------------------------------------------------
EVENT_NAME: Final = "event.name"  # log attribute naming the event when EventName is empty
BUSINESS_EVENT_PREFIX: Final = "business."
BUSINESS_VALUE: Final = "business.value"
BUSINESS_CURRENCY: Final = "business.currency"

EVENT_ML_OUTCOME: Final = "ml.outcome"
ML_OUTCOME_LABEL: Final = "ml.outcome.label"
ML_OUTCOME_VALUE: Final = "ml.outcome.value"

EVENT_ML_DEPLOYMENT: Final = "ml.deployment"
ML_DEPLOYMENT_TRAFFIC: Final = "ml.deployment.traffic_share"

EVENT_PIPELINE_RUN: Final = "pipeline.run"
EVENT_PIPELINE_INCIDENT: Final = "pipeline.incident"
PIPELINE_NAME: Final = "pipeline.name"
PIPELINE_STATUS: Final = "pipeline.status"
PIPELINE_CHANGE: Final = "pipeline.change"
DATASET_NAME: Final = "dataset.name"
DATA_VERSION: Final = "data.version"

# per-feature numeric summaries (opt-in, bounded) carried on a feature-summary event
EVENT_FEATURE_SUMMARY: Final = "ml.feature.summary"
ML_FEATURE_NAME: Final = "ml.feature.name"
ML_FEATURE_COUNT: Final = "ml.feature.count"
ML_FEATURE_MISSING: Final = "ml.feature.missing"
ML_FEATURE_MEAN: Final = "ml.feature.mean"
ML_FEATURE_MIN: Final = "ml.feature.min"
ML_FEATURE_MAX: Final = "ml.feature.max"

# --- instrumentation metrics -----------------------------------------------------------------
METRIC_PREDICTIONS: Final = "ml.predictions"  # counter, {prediction}
METRIC_PREDICTION_DURATION: Final = "ml.prediction.duration"  # histogram, s
METRIC_PREDICTION_SCORE: Final = "ml.prediction.score"  # histogram, 1
METRIC_PREDICTION_ERRORS: Final = "ml.prediction.errors"  # counter, {error}
# OTEL_IMPACT_METRIC_HISTOGRAMS=buckets: latency/score as cumulative fixed-bucket counters instead
METRIC_PREDICTION_DURATION_BUCKET: Final = "ml.prediction.duration.bucket"  # counter, attr le
METRIC_PREDICTION_DURATION_SUM: Final = "ml.prediction.duration.sum"  # counter, s
METRIC_PREDICTION_SCORE_BUCKET: Final = "ml.prediction.score.bucket"  # counter, attr le
METRIC_PREDICTION_SCORE_SUM: Final = "ml.prediction.score.sum"  # counter, 1
BUCKET_LE: Final = "le"  # upper bound of a cumulative bucket ("+Inf" for the last)
SEGMENT_OTHER: Final = "other"  # value used once a segment key exceeds its cardinality cap

# --- analyzer output ---------------------------------------------------------------------------
IMPACT_PREFIX: Final = "impact."
METRIC_IMPACT_CORRELATION: Final = "impact.correlation"
METRIC_IMPACT_CORRELATION_CI_LOW: Final = "impact.correlation.ci_low"
METRIC_IMPACT_CORRELATION_CI_HIGH: Final = "impact.correlation.ci_high"
METRIC_IMPACT_CORRELATION_PVALUE: Final = "impact.correlation.pvalue"
METRIC_IMPACT_BEST_LAG: Final = "impact.correlation.best_lag"
METRIC_IMPACT_TRANSFER_SLOPE: Final = "impact.transfer.slope"
METRIC_IMPACT_ATTRIBUTED_VALUE: Final = "impact.attributed.value"
METRIC_IMPACT_ATTRIBUTED_CREDIT: Final = "impact.attributed.credit"
METRIC_IMPACT_LIFT: Final = "impact.lift"
METRIC_IMPACT_LIFT_CI_LOW: Final = "impact.lift.ci_low"
METRIC_IMPACT_LIFT_CI_HIGH: Final = "impact.lift.ci_high"
METRIC_IMPACT_LIFT_PVALUE: Final = "impact.lift.pvalue"
METRIC_IMPACT_ROI: Final = "impact.roi"
METRIC_IMPACT_NET_BENEFIT: Final = "impact.net_benefit"
METRIC_IMPACT_SERIES: Final = "impact.series"
METRIC_IMPACT_DRIFT_PSI: Final = "impact.drift.psi"
METRIC_IMPACT_DRIFT_KS: Final = "impact.drift.ks"
METRIC_IMPACT_SLO_PREFIX: Final = "impact.slo."
METRIC_IMPACT_SLO_SLI: Final = "impact.slo.sli"  # good / total over the window
METRIC_IMPACT_SLO_BUDGET_REMAINING: Final = (
    "impact.slo.error_budget_remaining"  # share of the period's budget
)
METRIC_IMPACT_SLO_BURN_RATE: Final = "impact.slo.burn_rate"  # per long window, at the window end
IMPACT_SLO_NAME: Final = "impact.slo.name"
IMPACT_SLO_KIND: Final = "impact.slo.kind"  # latency | error_rate | success_rate | freshness
IMPACT_SLO_WINDOW: Final = "impact.slo.window"  # long window of a burn rate, e.g. "1h"
METRIC_IMPACT_ROLLOUT_EFFECT: Final = "impact.rollout.effect"  # relative effect of a rollout (no A/B test)
METRIC_IMPACT_ROLLOUT_EFFECT_CI_LOW: Final = "impact.rollout.effect.ci_low"
METRIC_IMPACT_ROLLOUT_EFFECT_CI_HIGH: Final = "impact.rollout.effect.ci_high"
METRIC_IMPACT_ROLLOUT_EFFECT_PVALUE: Final = "impact.rollout.effect.pvalue"
METRIC_IMPACT_ROLLOUT_MDE: Final = "impact.rollout.mde"  # smallest relative effect detectable (80 % power)
IMPACT_ROLLOUT_NAME: Final = "impact.rollout.name"  # explicit rollout name, or "<model> <version>"
IMPACT_ROLLOUT_START: Final = "impact.rollout.start"  # ISO UTC start of the rollout in this segment
IMPACT_ROLLOUT_VERDICT: Final = "impact.rollout.verdict"  # effect | no_effect | caution | refused
IMPACT_ROLLOUT_PREFERRED: Final = "impact.rollout.preferred"  # the estimate the report leads with
EVENT_IMPACT_ALERT: Final = "impact.alert"
EVENT_IMPACT_INCIDENT: Final = "impact.incident"

# attributes on analyzer output
IMPACT_MODEL_METRIC: Final = "impact.model_metric"
IMPACT_BUSINESS_METRIC: Final = "impact.business_metric"
IMPACT_METHOD: Final = "impact.method"
IMPACT_LAG_S: Final = "impact.lag_s"
IMPACT_SEGMENT_KEY: Final = "impact.segment.key"
IMPACT_SEGMENT_VALUE: Final = "impact.segment.value"
IMPACT_ATTRIBUTION_MODEL: Final = "impact.attribution.model"
IMPACT_SERIES_NAME: Final = "impact.series.name"
IMPACT_RUN_ID: Final = "impact.run.id"
IMPACT_WINDOW_START: Final = "impact.window.start"
IMPACT_WINDOW_END: Final = "impact.window.end"
IMPACT_ALERT_RULE: Final = "impact.alert.rule"
IMPACT_ALERT_SEVERITY: Final = "impact.alert.severity"
IMPACT_ALERT_STATE: Final = "impact.alert.state"
IMPACT_TREATMENT: Final = "impact.treatment"
IMPACT_CONTROL: Final = "impact.control"
# job, incidents, evaluation (analyzer part 4)
IMPACT_SERIES_KIND: Final = "impact.series.kind"
IMPACT_INCIDENT_METRIC: Final = "impact.incident.metric"
IMPACT_INCIDENT_START: Final = "impact.incident.start"
IMPACT_INCIDENT_END: Final = "impact.incident.end"
IMPACT_INCIDENT_MAGNITUDE: Final = "impact.incident.magnitude"
IMPACT_INCIDENT_LINKED: Final = "impact.incident.linked"
IMPACT_EVALUATION_FEATURE: Final = "impact.evaluation.feature"
IMPACT_EVALUATION_DECISION: Final = "impact.evaluation.decision"
IMPACT_CORRELATION_R_BEFORE: Final = "impact.correlation.r_before"  # breakdown: baseline r
IMPACT_CORRELATION_R_AFTER: Final = "impact.correlation.r_after"  # breakdown: recent-window r
IMPACT_BREAKDOWN_KIND: Final = "impact.breakdown.kind"  # weakening | sign_flip | divergence | recovered
METRIC_IMPACT_EVALUATION_OFFLINE: Final = "impact.evaluation.offline"
METRIC_IMPACT_EVALUATION_ONLINE: Final = "impact.evaluation.online"
TABLE_JOB_STATE: Final = "impact_job_state"
TABLE_JOB_LOCK: Final = "impact_job_lock"
VIEW_METRICS_LATEST: Final = "impact_metrics_latest"
VIEW_EVENTS_LATEST: Final = "impact_events_latest"
ENV_EXPORT_RETRIES: Final = "OTEL_IMPACT_EXPORT_RETRIES"

# --- embedded receiver's own telemetry (counters of items per signal and outcome) ------------
METRIC_RECEIVER_ACCEPTED: Final = "otel_impact.receiver.items.accepted"  # counter, {item}: written
METRIC_RECEIVER_REFUSED: Final = "otel_impact.receiver.items.refused"  # counter: bad input/busy/auth
METRIC_RECEIVER_FAILED: Final = "otel_impact.receiver.items.failed"  # counter: store write failed
RECEIVER_SIGNAL: Final = "otel_impact.receiver.signal"  # traces | metrics | logs

# --- experiments (OTel feature-flag registry): the arm a prediction was served in ----------
FEATURE_FLAG_KEY: Final = "feature_flag.key"
FEATURE_FLAG_VARIANT: Final = "feature_flag.result.variant"

# --- GenAI semantic conventions (open-telemetry semantic-conventions-genai) -----------------
# LLM inference spans are predictions: model from the response/request model, tokens as model
# metrics. Old spellings (gen_ai.system, *_tokens before the input/output rename) are read too.
GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"
GEN_AI_OP_CHAT: Final = "chat"
GEN_AI_OP_TEXT_COMPLETION: Final = "text_completion"
GEN_AI_OP_GENERATE_CONTENT: Final = "generate_content"
GEN_AI_INFERENCE_OPERATIONS: Final = (GEN_AI_OP_CHAT, GEN_AI_OP_TEXT_COMPLETION, GEN_AI_OP_GENERATE_CONTENT)
GEN_AI_PROVIDER_NAME: Final = "gen_ai.provider.name"
GEN_AI_SYSTEM: Final = "gen_ai.system"  # deprecated spelling of gen_ai.provider.name
GEN_AI_REQUEST_MODEL: Final = "gen_ai.request.model"
GEN_AI_RESPONSE_MODEL: Final = "gen_ai.response.model"
GEN_AI_RESPONSE_ID: Final = "gen_ai.response.id"
GEN_AI_CONVERSATION_ID: Final = "gen_ai.conversation.id"
GEN_AI_AGENT_ID: Final = "gen_ai.agent.id"
GEN_AI_AGENT_NAME: Final = "gen_ai.agent.name"
GEN_AI_AGENT_VERSION: Final = "gen_ai.agent.version"
GEN_AI_PROMPT_NAME: Final = "gen_ai.prompt.name"
GEN_AI_USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: Final = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: Final = "gen_ai.usage.cache_write.input_tokens"
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: Final = "gen_ai.usage.reasoning.output_tokens"
GEN_AI_USAGE_PROMPT_TOKENS: Final = "gen_ai.usage.prompt_tokens"  # old spelling of input_tokens
GEN_AI_USAGE_COMPLETION_TOKENS: Final = "gen_ai.usage.completion_tokens"  # old spelling of output_tokens
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS_OLD: Final = "gen_ai.usage.cache_read_input_tokens"  # OpenLLMetry
LLM_REQUEST_TYPE: Final = "llm.request.type"  # OpenLLMetry operation before gen_ai.operation.name
ENDUSER_ID: Final = "enduser.id"  # deprecated registry spelling of user.id
# evaluation results (event gen_ai.evaluation.result, parented to the span or carrying the response id)
EVENT_GEN_AI_EVALUATION_RESULT: Final = "gen_ai.evaluation.result"
GEN_AI_EVALUATION_NAME: Final = "gen_ai.evaluation.name"
GEN_AI_EVALUATION_SCORE_VALUE: Final = "gen_ai.evaluation.score.value"
GEN_AI_EVALUATION_SCORE_LABEL: Final = "gen_ai.evaluation.score.label"
GEN_AI_EVALUATION_EXPLANATION: Final = "gen_ai.evaluation.explanation"

# --- OpenInference semantic conventions (Arize Phoenix instrumentations) ---------------------
OPENINFERENCE_SPAN_KIND: Final = "openinference.span.kind"
OPENINFERENCE_KIND_LLM: Final = "LLM"
LLM_MODEL_NAME: Final = "llm.model_name"
LLM_SYSTEM: Final = "llm.system"
LLM_PROVIDER: Final = "llm.provider"
LLM_PROMPT_TEMPLATE_VERSION: Final = "llm.prompt_template.version"
LLM_TOKEN_COUNT_PROMPT: Final = "llm.token_count.prompt"
LLM_TOKEN_COUNT_COMPLETION: Final = "llm.token_count.completion"
LLM_TOKEN_COUNT_CACHE_READ: Final = "llm.token_count.prompt_details.cache_read"
LLM_COST_TOTAL: Final = "llm.cost.total"
LLM_COST_PROMPT: Final = "llm.cost.prompt"
LLM_COST_COMPLETION: Final = "llm.cost.completion"
OPENINFERENCE_OUTPUT_VALUE: Final = "output.value"  # raw response (JSON): its "id" is the response id

# which attributes name an LLM prediction's version, first non-empty wins (llm.version_attributes)
DEFAULT_LLM_VERSION_ATTRIBUTES: Final = (
    ML_MODEL_VERSION,
    LLM_PROMPT_TEMPLATE_VERSION,
    GEN_AI_PROMPT_NAME,
    GEN_AI_AGENT_VERSION,
)
TABLE_SETTINGS: Final = "impact_settings"  # analyzer settings the views read (llm.version_attributes)
SETTING_LLM_VERSION_ATTRIBUTES: Final = "llm.version_attributes"

# --- feature flags (OTel feature-flag conventions, release candidate) --------------------------
EVENT_FEATURE_FLAG_EVALUATION: Final = "feature_flag.evaluation"  # log event or span event
FEATURE_FLAG_RESULT_VALUE: Final = "feature_flag.result.value"
FEATURE_FLAG_CONTEXT_ID: Final = "feature_flag.context.id"
FEATURE_FLAG_PROVIDER_NAME: Final = "feature_flag.provider.name"
VIEW_FLAG_EVALUATIONS: Final = "impact_flag_evaluations"

# --- cost per business outcome (analyzer output) -----------------------------------------------
METRIC_IMPACT_COST_TOTAL: Final = "impact.cost.total"  # LLM cost in the window, per model version
METRIC_IMPACT_COST_PER_OUTCOME: Final = "impact.cost.per_outcome"  # cost / attributed outcomes
METRIC_IMPACT_COST_PER_VALUE: Final = "impact.cost.per_value"  # cost / attributed value
METRIC_IMPACT_COST_TOKENS: Final = "impact.cost.tokens"  # tokens, attribute impact.cost.token_type
IMPACT_COST_TOKEN_TYPE: Final = "impact.cost.token_type"  # input | output | cached_input

# --- resource ------------------------------------------------------------------------------
SERVICE_NAME: Final = "service.name"
SERVICE_INSTANCE_ID: Final = "service.instance.id"

# --- environment variables -------------------------------------------------------------------
ENV_CLICKHOUSE_DSN: Final = "OTEL_IMPACT_CLICKHOUSE_DSN"
ENV_CLICKHOUSE_PASSWORD: Final = "OTEL_IMPACT_CLICKHOUSE_PASSWORD"
ENV_CLICKHOUSE_PASSWORD_FILE: Final = "OTEL_IMPACT_CLICKHOUSE_PASSWORD_FILE"
ENV_TEST_CLICKHOUSE_DSN: Final = "OTEL_IMPACT_TEST_CLICKHOUSE_DSN"
ENV_SEGMENT_KEYS: Final = "OTEL_IMPACT_SEGMENT_KEYS"
ENV_SEGMENT_CARDINALITY_CAP: Final = "OTEL_IMPACT_SEGMENT_CARDINALITY_CAP"
ENV_MODEL_NAME: Final = "OTEL_IMPACT_MODEL_NAME"
ENV_MODEL_VERSION: Final = "OTEL_IMPACT_MODEL_VERSION"
ENV_TARGETS: Final = "OTEL_IMPACT_TARGETS"
ENV_FEATURE_SUMMARIES: Final = "OTEL_IMPACT_FEATURE_SUMMARIES"  # "true" enables per-feature summaries
ENV_FEATURE_SUMMARY_MAX_FEATURES: Final = "OTEL_IMPACT_FEATURE_SUMMARY_MAX_FEATURES"
ENV_FEATURE_SUMMARY_INTERVAL: Final = "OTEL_IMPACT_FEATURE_SUMMARY_INTERVAL"  # seconds between summary events
ENV_METRIC_BUFFER: Final = "OTEL_IMPACT_METRIC_BUFFER"  # values buffered before an inline metric flush
ENV_METRIC_HISTOGRAMS: Final = "OTEL_IMPACT_METRIC_HISTOGRAMS"  # "otlp" (default) or "buckets"
ENV_RECEIVER_AUTH_TOKEN: Final = "OTEL_IMPACT_RECEIVER_AUTH_TOKEN"

DEFAULT_DB_PATH: Final = ".otel-impact/db"

# --- exporter-layout table names (the Collector's clickhouseexporter defaults) ---------------
TABLE_TRACES: Final = "otel_traces"
TABLE_TRACES_ID_TS: Final = "otel_traces_trace_id_ts"
TABLE_TRACES_ID_TS_MV: Final = "otel_traces_trace_id_ts_mv"
TABLE_LOGS: Final = "otel_logs"
TABLE_METRICS_GAUGE: Final = "otel_metrics_gauge"
TABLE_METRICS_SUM: Final = "otel_metrics_sum"
TABLE_METRICS_HISTOGRAM: Final = "otel_metrics_histogram"
TABLE_METRICS_EXP_HISTOGRAM: Final = "otel_metrics_exponential_histogram"
TABLE_METRICS_SUMMARY: Final = "otel_metrics_summary"
EXPORTER_TABLES: Final = (
    TABLE_TRACES,
    TABLE_TRACES_ID_TS,
    TABLE_LOGS,
    TABLE_METRICS_GAUGE,
    TABLE_METRICS_SUM,
    TABLE_METRICS_HISTOGRAM,
    TABLE_METRICS_EXP_HISTOGRAM,
    TABLE_METRICS_SUMMARY,
)
# our own tables and views
TABLE_SCHEMA_VERSION: Final = "impact_schema_version"
VIEW_PREDICTIONS: Final = "impact_predictions"
VIEW_EVENTS: Final = "impact_events"
# typed tables with the views' rows, filled at insert time by materialized views (the analyzer reads these)
TABLE_PREDICTIONS_TYPED: Final = "impact_predictions_typed"
TABLE_EVENTS_TYPED: Final = "impact_events_typed"
MV_PREDICTIONS_TYPED: Final = "impact_predictions_typed_mv"
MV_EVENTS_TYPED: Final = "impact_events_typed_mv"


def segment_attribute(key: str) -> str:
    """Span attribute carrying segment ``key`` (``ml.segment.<key>``)."""
    return ML_SEGMENT_PREFIX + key


def business_event(metric: str) -> str:
    """EventName of business metric ``metric`` (``business.<metric>``)."""
    return BUSINESS_EVENT_PREFIX + metric


def prediction_span_name(model: str) -> str:
    """Name of the span for one prediction of ``model``."""
    return PREDICTION_SPAN_PREFIX + model
