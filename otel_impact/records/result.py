"""The result of one analysis run, section by section (the published result contract).

:class:`Result` is what :func:`otel_impact.pipeline.analyze` returns and what the exporters, the
reports, the digest's headline, the demo and the CLI read. ``Result.to_json()`` is the document
written to ``results.json`` and printed by ``otel-impact analyze --json``; its JSON Schema is
generated into ``docs/result-schema.json`` (:mod:`otel_impact.records.schema`). What each
section means is in ``docs/results.md``.

Shared field names: ``estimate``, ``ci`` (``[low, high]``), ``pvalue``, ``n`` and ``method`` mean
the same in every section that has them; a number that could not be computed is ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from otel_impact.records.base import Number, Record, Segment, Timestamp

__all__ = [
    "AffectedWindow",
    "Alert",
    "AlertState",
    "Anomaly",
    "AttributeValue",
    "Attribution",
    "BurnAlert",
    "BurnWindow",
    "Ci",
    "Correlation",
    "CostRow",
    "DataQuality",
    "DeploymentEvent",
    "Deployments",
    "EvaluationRow",
    "FeatureStats",
    "Freshness",
    "FreshnessGap",
    "GateCheck",
    "Incident",
    "KpiRollout",
    "KpiRow",
    "KpiTable",
    "KsTest",
    "LagEstimate",
    "Lift",
    "LinkedEvent",
    "ModelDeployment",
    "ModelName",
    "ModelVersion",
    "PlanEntryStatus",
    "PlanExample",
    "PlanProblem",
    "PlanViolation",
    "ReferenceWindow",
    "ResourceRow",
    "Result",
    "ResultWindow",
    "Roi",
    "Rollout",
    "RolloutEffect",
    "RolloutImpact",
    "RolloutTimes",
    "RuleTotal",
    "RunInfo",
    "SampleRatio",
    "SegmentRank",
    "Series",
    "Severity",
    "Slo",
    "Stitching",
    "TrackingPlan",
    "TrafficPhase",
    "TrafficSeries",
    "Transfer",
    "UpstreamEvent",
    "VersionSeen",
    "make_alert",
]

Ci = list[Number]
"""``[low, high]`` of a confidence interval (both ``None`` when undefined)."""

Severity = Literal["info", "warning", "critical"]
AlertState = Literal["firing", "resolved"]
ModelName = Annotated[str, Field(alias="ml.model.name")]
ModelVersion = Annotated[str | None, Field(alias="ml.model.version")]
AttributeValue = str | bool | int | float


# --- window, run ---------------------------------------------------------------------------------


class ResultWindow(Record):
    """The analysed window ``[start, end)``."""

    start: Timestamp
    end: Timestamp


class RunInfo(Record):
    """The job run that produced the result (absent when ``analyze`` ran outside the job)."""

    id: str
    job: str
    started: Timestamp
    previous_watermark: Timestamp | None
    stage_seconds: dict[str, float] | None = Field(
        default=None, description="Wall-clock seconds of each analysis stage, in run order."
    )


# --- alerts and incidents ------------------------------------------------------------------------


class Alert(Record):
    """One alert transition: a rule started firing (``firing``) or stopped (``resolved``)."""

    rule: str
    state: AlertState
    severity: Severity
    at: Timestamp
    message: str
    attributes: dict[str, AttributeValue] = Field(default_factory=dict)


def _plain(value: object) -> object:
    """A numpy scalar as the Python number it holds (other values unchanged)."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def make_alert(
    rule: str,
    *,
    at: datetime,
    message: str,
    severity: str = "warning",
    state: str = "firing",
    attributes: Mapping[str, object] | None = None,
) -> Alert:
    """The one way a stage builds an alert: attributes with a ``None`` value are left out, numpy
    scalars become Python numbers, and a severity or state outside the contract is an error."""
    attrs = {k: _plain(v) for k, v in (attributes or {}).items() if v is not None}
    return Alert.model_validate(
        {
            "rule": rule,
            "state": state,
            "severity": severity,
            "at": at,
            "message": message,
            "attributes": attrs,
        }
    )


class Anomaly(Record):
    """A change point in one series: where it starts and ends, and how big it is."""

    metric: str
    model_name: ModelName
    segment: Segment
    start: Timestamp
    end: Timestamp
    direction: str
    magnitude: Number
    baseline: Number
    score: Number
    pvalue: Number
    n: int
    method: str


class UpstreamEvent(Record):
    """A pipeline run or data change reported by the upstream pipelines."""

    kind: str
    at: Timestamp
    pipeline: Annotated[str, Field(alias="pipeline.name")]
    dataset: Annotated[str, Field(alias="dataset.name")]
    data_version: Annotated[str, Field(alias="data.version")]
    status: str
    change: str
    severity: Number


class LinkedEvent(UpstreamEvent):
    """An upstream event considered as the cause of an incident, with its evidence."""

    lag_s: Number
    lineage_distance: int | None
    score: Number


class Incident(Record):
    """An anomaly with the upstream events linked to it and the verdict on its cause."""

    anomaly: Anomaly
    linked: list[LinkedEvent]
    cause: str
    severity: Severity = Field(
        description="critical: moved the bad way with strong upstream evidence; info: the metric improved"
    )
    affected: bool


class AffectedWindow(Record):
    """A span of time in which a model's metrics were affected by an incident."""

    model_name: ModelName
    segment: Segment
    start: Timestamp
    end: Timestamp
    metrics: list[str]


# --- model ↔ business ----------------------------------------------------------------------------


class LagEstimate(Record):
    """The correlation at one lag."""

    lag_s: Number
    estimate: Number
    pvalue: Number
    n: int


class Correlation(Record):
    """Correlation of a model metric with a business metric in one segment, at the best lag."""

    model_name: ModelName
    segment: Segment
    model_metric: str
    business_metric: str
    estimate: Number
    ci: Ci
    pvalue: Number
    pvalue_unadjusted: Number
    n: int
    n_eff: Number
    method: str
    effective_n_method: str
    correction: str
    lag_s: Number
    lag_buckets: int
    lags: list[LagEstimate]


class Transfer(Record):
    """How much the business metric moves per unit of the model metric (HAC slope, elasticity)."""

    model_name: ModelName
    segment: Segment
    model_metric: str
    business_metric: str
    lag_s: Number
    estimate: Number
    ci: Ci
    pvalue: Number
    n: int
    method: str
    hac_maxlags: int
    elasticity: Number
    elasticity_ci: Ci
    saturated: bool
    saturation_pvalue: Number
    rolling_slope: list[Number] | None = None
    slope_baseline: Number = None
    slope_recent: Number = None


class SegmentRank(Record):
    """A segment ranked by the strength of its model ↔ business relationship."""

    rank: int
    model_name: ModelName
    segment: Segment
    model_metric: str
    business_metric: str
    estimate: Number
    pvalue: Number
    n: int
    lag_s: Number
    strength: Number
    period_end: Timestamp | None


class Series(Record):
    """A bucketed series: a model metric (``ml.model.name`` set) or a business metric."""

    name: str
    kind: str
    segment: Segment
    buckets: list[Timestamp]
    values: list[Number]
    model_name: Annotated[str | None, Field(alias="ml.model.name")] = None
    model_version: Annotated[str | None, Field(alias="ml.model.version")] = None
    business_metric: str | None = None
    affected: list[bool] | None = None


class KsTest(Record):
    """Two-sample Kolmogorov–Smirnov test of the scores against the reference window."""

    estimate: Number
    pvalue: Number
    n: int
    method: str


class ReferenceWindow(Record):
    start: Timestamp
    end: Timestamp
    n: int


class FeatureStats(Record):
    """One input feature in one bucket."""

    feature: Annotated[str, Field(alias="ml.feature.name")]
    n: int
    missing_rate: Number
    mean: Number
    min: Number
    max: Number
    mean_delta: Number


class DataQuality(Record):
    """Score drift and input quality of one model in one bucket."""

    model_name: ModelName
    bucket: Timestamp
    end: Timestamp
    source: str
    n: int
    psi: Number
    ks: KsTest | None
    novelty: Number
    missing_rate: Number
    drift: bool
    reference: ReferenceWindow
    features: list[FeatureStats]


# --- attribution, lift, ROI, cost ----------------------------------------------------------------


class Stitching(Record):
    """How many outcomes the stitching joined to a prediction, per business metric."""

    business_metric: str
    key: str
    window_s: Number
    outcomes: int
    attributed_outcomes: int
    unattributed_outcomes: int
    value_total: Number
    attributed_value: Number
    unattributed_value: Number


class Attribution(Record):
    """Outcome value credited to one model version in one segment by one attribution model."""

    model: str
    model_name: ModelName
    model_version: Annotated[str, Field(alias="ml.model.version")]
    segment: Segment
    business_metric: str
    credit: Number
    value: Number
    removal_effect: Number = None


class SampleRatio(Record):
    """Sample-ratio-mismatch check of an experiment's arms."""

    observed: list[int]
    expected: list[Number]
    pvalue: Number
    mismatch: bool
    method: str


class Lift(Record):
    """Treatment vs control of one metric in one segment (an A/B test)."""

    metric: str
    segment: Segment
    treatment: dict[str, str]
    control: dict[str, str]
    estimate: Number
    absolute: Number
    ci: Ci
    ci_method: str
    pvalue: Number
    n: int
    n_treatment: int
    n_control: int
    mean_treatment: Number
    mean_control: Number
    method: str
    cuped: bool
    variance_reduction: Number
    crossover: int
    srm: SampleRatio | None = None
    flag: str | None = None


class Roi(Record):
    """Return on investment of one model version."""

    model_name: ModelName
    model_version: ModelVersion
    metric: str
    treatment: dict[str, str]
    incremental_value: Number
    incremental_value_ci: Ci
    units: Number
    predictions: Number
    cost: Number
    llm_cost: Number
    net_benefit: Number
    roi_pct: Number
    claimed: bool
    method: str
    note: str | None


class CostRow(Record):
    """LLM token cost per outcome and per unit of value, per model and segment."""

    model_name: ModelName
    model_version: ModelVersion
    segment: Segment
    business_metric: str
    attribution_model: str
    currency: str
    predictions: Number
    input_tokens: Number
    cached_input_tokens: Number
    output_tokens: Number
    cost: Number
    outcomes: Number
    value: Number
    cost_per_outcome: Number
    cost_per_value: Number
    method: str


class ResourceRow(Record):
    """Measured compute cost of one model on one service."""

    service: Annotated[str, Field(alias="service.name")]
    model_name: ModelName
    share: Number
    cpu_seconds: Number
    memory_gib_mean: Number
    cpu_cost: Number
    memory_cost: Number
    cost: Number
    predictions: Number
    cost_per_1k_predictions: Number


class KpiRow(Record):
    """One business KPI before vs after the rollout (descriptive)."""

    metric: str
    pre: Number
    post: Number
    change: Number = None
    change_pct: Number = None
    n_pre: int | None = None
    n_post: int | None = None
    pvalue: Number = None
    ci: Ci | None = None


class KpiTable(Record):
    """KPIs before vs after the rollout (``{}`` when there is no rollout time)."""

    rollout: Timestamp | None = None
    rows: list[KpiRow] = Field(default_factory=list)


# --- deployments and rollouts --------------------------------------------------------------------


class VersionSeen(Record):
    version: str
    first_seen: Timestamp
    last_seen: Timestamp
    predictions: Number


class TrafficPhase(Record):
    """A period with stable version shares."""

    start: Timestamp
    end: Timestamp
    predictions: Number
    shares: dict[str, Number]


class RolloutTimes(Record):
    """When the newest version started, became the majority and took all traffic."""

    version: str | None
    source: str
    rollout_start: Timestamp | None
    majority: Timestamp | None
    complete: Timestamp | None


class TrafficSeries(Record):
    buckets: list[Timestamp]
    totals: list[Number]
    shares: dict[str, list[Number]]


class ModelDeployment(Record):
    """One model's versions, traffic phases and rollout times."""

    model: str
    versions: list[VersionSeen]
    phases: list[TrafficPhase]
    rollout: RolloutTimes | None
    traffic: TrafficSeries


class DeploymentEvent(Record):
    """A deployment reported by a service (``record_deployment``)."""

    ts: Timestamp
    service: str
    model_name: ModelName
    model_version: ModelVersion
    traffic_share: Number


class KpiRollout(Record):
    """The rollout time the KPI table uses, and where it came from."""

    at: Timestamp | None
    applied: bool
    boundary: str | None
    model: str | None
    version: str | None


class Deployments(Record):
    """Model versions seen, their traffic shares and rollout phases, and the KPI rollout time."""

    bucket_s: Number
    models: list[ModelDeployment]
    events: list[DeploymentEvent]
    kpi_rollout: KpiRollout | None


class Rollout(Record):
    """A rollout analysed for impact without an experiment."""

    name: str
    source: str
    model: str | None
    version: str | None
    segment_key: str | None
    starts: dict[str, Timestamp | None]


class RolloutEffect(Record):
    """The effect of a rollout on one metric in one segment, by one quasi-experimental method."""

    rollout: str
    rollout_at: Timestamp
    model: str | None
    version: str | None
    metric: str
    measure: str
    segment: Segment
    method: str
    level: Number
    estimate: Number
    ci: Ci
    pvalue: Number
    n: int
    n_pre: int
    n_post: int
    average_effect: Number
    average_effect_ci: Ci
    assumptions: list[str]
    verdict_kind: str
    verdict: str | None = None
    preferred: bool | None = None
    counterfactual_mean: Number = None
    cumulative: Number = None
    cumulative_ci: Ci | None = None
    level_change: Number = None
    level_change_ci: Ci | None = None
    slope_change: Number = None
    slope_change_ci: Ci | None = None
    mde: Number = None
    mde_relative: Number = None
    pre_rmspe: Number = None
    pre_rmspe_relative: Number = None
    post_rmspe: Number = None
    rmspe_ratio: Number = None
    placebo_estimate: Number = None
    placebo_pvalue: Number = None
    placebo_ratios: list[Number] | None = None
    placebo_in_time_estimate: Number = None
    placebo_in_time_covers_zero: bool | None = None
    fit_ok: bool | None = None
    gap_mean: Number = None
    gap_end: Number = None
    post_end: Timestamp | None = None
    weights: dict[str, Number] | None = None
    matching: str | None = None
    predictor_v: dict[str, Number] | None = None
    donors: list[str] | None = None
    loo: list[list[str | Number]] | None = None
    parallel_trends_ok: bool | None = None
    pretrend_pvalue: Number = None
    pretrend_slope: Number = None


class RolloutImpact(Record):
    """Rollouts without an A/B test and their estimated effects (ITS, synthetic control, DiD)."""

    rollouts: list[Rollout]
    effects: list[RolloutEffect]


# --- SLOs and freshness --------------------------------------------------------------------------


class BurnWindow(Record):
    """One multi-window burn-rate condition of an SLO."""

    window: str
    long_s: Number
    short_s: Number
    factor: Number
    severity: Severity
    burn_long: Number
    burn_short: Number
    max_burn_long: Number
    firing: bool


class BurnAlert(Record):
    window: str
    state: AlertState
    severity: Severity
    at: Timestamp
    burn_long: Number
    burn_short: Number
    factor: Number


class Slo(Record):
    """One service-level objective: its SLI, error budget and burn-rate windows."""

    name: str
    kind: str
    sli: str
    objective: Number
    period_s: Number
    estimate: Number
    n: Number
    method: str
    error_ratio: Number
    error_budget: Number
    budget_consumed: Number
    budget_remaining: Number
    threshold_ms: Number
    max_age_s: Number
    windows: list[BurnWindow]
    alerts: list[BurnAlert]
    model_name: Annotated[str | None, Field(alias="ml.model.name")] = None
    pipeline: Annotated[str | None, Field(alias="pipeline.name")] = None


class FreshnessGap(Record):
    kind: str
    at: Timestamp


class Freshness(Record):
    """Whether a pipeline ran on its schedule."""

    pipeline: Annotated[str, Field(alias="pipeline.name")]
    status: str
    schedule_s: Number
    grace_s: Number
    runs: int
    late: int
    missing: int
    last_run: Timestamp | None
    expected: Timestamp | None
    gaps: list[FreshnessGap]


# --- tracking plan, evaluation -------------------------------------------------------------------


class PlanProblem(Record):
    path: str
    message: str


class RuleTotal(Record):
    count: int
    tolerance: int
    exceeded: bool


class PlanExample(Record):
    """A row that broke a tracking-plan rule (the span or log record to look at)."""

    ts: Timestamp | None
    trace_id: str | None
    service: str | None
    span_id: str | None = None
    value: AttributeValue | None = None


class PlanViolation(Record):
    kind: str
    entry: str
    source: str
    attribute: str | None
    count: int
    rows: int
    rate: Number
    message: str
    examples: list[PlanExample]


class PlanEntryStatus(Record):
    name: str
    source: str
    owner: str | None
    status: str
    live: bool
    rows: int
    last_seen: Timestamp | None


class TrackingPlan(Record):
    """The tracking-plan check over the window."""

    ok: bool
    window: ResultWindow
    plan_problems: list[PlanProblem]
    summary: dict[str, RuleTotal]
    violations: list[PlanViolation]
    entries: list[PlanEntryStatus]


class GateCheck(Record):
    """One side of the evaluation matrix: a metric against its threshold (``passes`` is ``None``
    when there is no value)."""

    metric: str
    value: Number
    threshold: Number
    passes: bool | None


class EvaluationRow(Record):
    """Offline evaluation vs online impact of one feature: the decision it leads to."""

    feature: str
    offline: GateCheck
    online: GateCheck
    decision: str
    action: str


# --- the result ----------------------------------------------------------------------------------


class Result(Record):
    """Every section of one analysis run."""

    window: ResultWindow
    run: RunInfo | None = None
    warnings: list[str] = Field(
        default_factory=list, description="Thin or degenerate data, one line each (never a failed run)."
    )
    alerts: list[Alert] = Field(default_factory=list)
    incidents: list[Incident] = Field(default_factory=list)
    affected_windows: list[AffectedWindow] = Field(default_factory=list)
    upstream_events: list[UpstreamEvent] = Field(default_factory=list)
    correlations: list[Correlation] = Field(default_factory=list)
    transfer: list[Transfer] = Field(default_factory=list)
    segment_ranking: list[SegmentRank] = Field(default_factory=list)
    series: list[Series] = Field(default_factory=list)
    data_quality: list[DataQuality] = Field(default_factory=list)
    stitching: list[Stitching] = Field(default_factory=list)
    attribution: list[Attribution] = Field(default_factory=list)
    lift: list[Lift] = Field(default_factory=list)
    roi: list[Roi] = Field(default_factory=list)
    cost: list[CostRow] = Field(default_factory=list)
    resources: list[ResourceRow] | None = None
    kpi: KpiTable | None = None
    deployments: Deployments | None = None
    rollout_impact: RolloutImpact | None = None
    slos: list[Slo] | None = None
    freshness: list[Freshness] = Field(default_factory=list)
    tracking_plan: TrackingPlan | None = None
    evaluation: list[EvaluationRow] | None = None

    def firing_alerts(self) -> list[Alert]:
        """The transitions into ``firing``: what the job counts (``--fail-on-alert``, the run
        log) and the summary and headline show as fired."""
        return [a for a in self.alerts if a.state == "firing"]
