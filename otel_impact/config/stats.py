"""Config sections of analyzer part 2: ``series``, ``correlation``, ``lift``, ``roi``, ``kpi``, ``alerts``.

``series`` says how model and business metrics are bucketed and which model metrics are
correlated; ``correlation`` sets the lag scan, methods and breakdown detection; ``lift`` names
the treatment and control arms by span attribute; ``roi`` holds the costs; ``kpi`` the rollout
time of the pre/post table; ``alerts`` the thresholds and adaptive-baseline parameters.

>>> SeriesSection().bucket, SeriesSection().model_metrics
(86400.0, ('ctr', 'auc', 'mean_score'))
>>> LiftSection.model_validate({"treatment": {"ml.model.version": "v2"},
...                             "control": {"ml.model.version": "v1"}}).attribute
'ml.model.version'
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from pydantic import Field, field_validator, model_validator

from otel_impact.config.base import Duration, Section, bucket_duration, plain_name, positive_duration
from otel_impact.config.llm import EvaluationMetric, LlmModelMetric
from otel_impact.config.sqlsource import checked_sql
from otel_impact.semconv import FEATURE_FLAG_VARIANT

ModelMetric = Literal[
    "ctr",
    "conversion_rate",
    "volume",
    "mean_score",
    "error_rate",
    "latency_p50_ms",
    "latency_p95_ms",
    "accuracy",
    "precision",
    "recall",
    "auc",
    "calibration_error",
]
MODEL_METRICS: tuple[ModelMetric, ...] = get_args(ModelMetric)
BusinessMeasure = Literal["value", "events", "conversion_rate", "value_per_user"]


class CustomMetric(Section):
    """A series from any ClickHouse query returning a timestamp column and a value column."""

    name: str
    sql: str
    ts: str = "ts"
    value: str = "value"
    agg: Literal["sum", "avg", "max", "min"] = "sum"
    kind: Literal["model", "business"] = "business"

    _valid_name = field_validator("name")(plain_name)
    _sql = field_validator("sql")(checked_sql)


class SeriesSection(Section):
    """Per-bucket series aggregated in ClickHouse (bucket × segment × model version)."""

    bucket: Duration = 86400.0
    # also LLM metrics (input_tokens, output_tokens, cached_input_tokens, llm_cost) and
    # evaluation.<evaluator> (mean gen_ai.evaluation.result score), see config/llm.py
    model_metrics: tuple[ModelMetric | LlmModelMetric | EvaluationMetric, ...] = ("ctr", "auc", "mean_score")
    business_measure: BusinessMeasure = "value_per_user"  # which business series is correlated
    score_threshold: float = Field(default=0.5, ge=0, le=1)  # score ≥ threshold predicts 1
    custom: tuple[CustomMetric, ...] = ()

    _bucket = field_validator("bucket")(bucket_duration)

    @field_validator("model_metrics")
    @classmethod
    def _unique(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(v)) != len(v):
            raise ValueError("model_metrics must be unique")
        return v

    @model_validator(mode="after")
    def _unique_custom(self) -> SeriesSection:
        names = [c.name for c in self.custom]
        if len(set(names)) != len(names):
            raise ValueError("custom metric names must be unique")
        return self


class CorrelationSection(Section):
    """Lag scan, methods and breakdown detection."""

    enabled: bool = True
    max_lag: int = Field(default=7, ge=0, le=365)  # in buckets; business lagging model
    methods: tuple[Literal["pearson", "spearman"], ...] = ("pearson", "spearman")
    effective_n: Literal["bartlett", "bretherton", "none"] = "bartlett"
    min_points: int = Field(default=8, ge=3)
    level: float = Field(default=0.95, gt=0, lt=1)
    rolling_window: int = Field(default=6, ge=4)  # buckets in the recent window (breakdown)
    baseline_window: int = Field(default=30, ge=4)  # buckets in the baseline before it
    min_baseline_window: int = Field(default=10, ge=4)  # shortest baseline tested (expanding up to the above)
    alert_alpha: float = Field(default=0.01, gt=0, lt=1)  # breakdown error budget per run (BH + CUSUM)
    prior_alpha: float = Field(
        default=0.01, gt=0, lt=1
    )  # the reference relationship must be this significant
    transfer_window: int = Field(default=14, ge=4)  # buckets in the recent transfer-slope window
    saturation_alpha: float = Field(default=0.01, gt=0, lt=1)

    @field_validator("methods")
    @classmethod
    def _some(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v or len(set(v)) != len(v):
            raise ValueError("methods must be a non-empty list without repeats")
        return v

    @model_validator(mode="after")
    def _baselines(self) -> CorrelationSection:
        if self.min_baseline_window > self.baseline_window:
            raise ValueError("min_baseline_window must not exceed baseline_window")
        return self


class LiftSection(Section):
    """Treatment vs control on per-user outcomes. Arms are selected by one span attribute
    (``ml.model.version``, or any attribute such as a feature-flag variant); users are assigned
    to the arm of their first exposure in the window."""

    enabled: bool = True
    treatment: dict[str, str] = Field(default_factory=dict)
    control: dict[str, str] = Field(default_factory=dict)
    # a feature-flag key: arms are its variants (feature_flag.result.variant), from flag evaluation
    # events or feature_flag.* span attributes, joined by context id / user
    flag: str | None = None
    metrics: tuple[str, ...] = ()  # business metric names; empty = all configured
    bootstrap: int = Field(default=2000, ge=100, le=100_000)
    bootstrap_max_n: int | None = Field(default=20_000, ge=2)  # users per arm; both larger: delta-method CI
    level: float = Field(default=0.95, gt=0, lt=1)
    cuped_pre_period: Duration | None = None  # pre-period length before the window (CUPED)
    segments: bool = True  # also per configured segment value
    expected_split: tuple[float, float] | None = None  # treatment, control shares (SRM check)

    @model_validator(mode="after")
    def _arms(self) -> LiftSection:
        if bool(self.treatment) != bool(self.control):
            raise ValueError("give both 'treatment' and 'control', or neither")
        if len(self.treatment) > 1 or len(self.control) > 1:
            raise ValueError("treatment and control select by exactly one attribute each")
        if self.treatment and set(self.treatment) != set(self.control):
            raise ValueError("treatment and control must select by the same attribute")
        if self.treatment and self.treatment == self.control:
            raise ValueError("treatment and control must differ")
        if self.expected_split is not None and min(self.expected_split) <= 0:
            raise ValueError("expected_split shares must be positive")
        if self.flag is not None and set(self.treatment) != {FEATURE_FLAG_VARIANT}:
            raise ValueError(f"with 'flag', treatment and control select by {FEATURE_FLAG_VARIANT!r}")
        return self

    @field_validator("cuped_pre_period")
    @classmethod
    def _pre_positive(cls, v: float | None) -> float | None:
        return None if v is None else positive_duration(v)

    @property
    def attribute(self) -> str | None:
        return next(iter(self.treatment), None)


class RoiSection(Section):
    """Costs of running a model version (in the business metric's currency)."""

    cost_per_1k_predictions: float = Field(default=0.0, ge=0)
    fixed_cost_per_month: float = Field(default=0.0, ge=0)
    compute_cost: float = Field(default=0.0, ge=0)  # total for the analysed window


class KpiSection(Section):
    """Pre/post-deployment KPI table around ``rollout`` (ISO-8601 UTC; omitted = no table)."""

    rollout: datetime | None = None

    @field_validator("rollout")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("rollout must carry a timezone, e.g. 2026-11-20T00:00:00Z")
        return v


class AlertsSection(Section):
    """Threshold rules, adaptive baselines, and the error budget and persistence policy shared by
    every alert rule (docs/alerts.md)."""

    enabled: bool = True
    accuracy_drop: float = Field(default=0.02, ge=0, le=1)  # absolute drop below the EWMA baseline
    latency_p95_ms: float = Field(default=200.0, gt=0)
    drift_score: float = Field(default=0.7, gt=0)
    business_impact: float = Field(default=0.005)  # relative lift significantly below this alerts
    adaptive: bool = True
    adaptive_metrics: tuple[str, ...] = ("volume", "mean_score", "error_rate")
    z_threshold: float = Field(default=3.0, gt=0)  # smallest |z| that can alert (effect-size floor)
    halflife: float = Field(default=7.0, gt=0)  # buckets
    baseline_buckets: int = Field(default=28, ge=2)
    min_history: int = Field(default=14, ge=2)  # buckets of history before adaptive z is trusted
    # buckets per season; "auto": a week of daily-or-longer buckets, a day of shorter ones
    season: int | Literal["auto"] | None = "auto"
    fdr: float = Field(default=0.01, gt=0, lt=0.5)  # BH false-discovery rate per rule and run
    min_count: int = Field(default=30, ge=1)  # fewer events in a bucket → the bucket is unknown
    trigger_after: int = Field(default=2, ge=1)  # fire when the condition held in this many …
    trigger_within: int = Field(default=3, ge=1)  # … of the last this many known buckets
    clear_after: int = Field(default=3, ge=1)  # resolve after this many known buckets without it

    @field_validator("season")
    @classmethod
    def _season(cls, v: int | str | None) -> int | str | None:
        if isinstance(v, int) and v < 1:
            raise ValueError("season must be >= 1 or 'auto'")
        return v

    @model_validator(mode="after")
    def _within(self) -> AlertsSection:
        if self.trigger_within < self.trigger_after:
            raise ValueError("trigger_within must be >= trigger_after")
        return self

    def season_buckets(self, bucket_s: float) -> int | None:
        """The seasonal period in buckets of ``bucket_s`` seconds (None: no season)."""
        if self.season != "auto":
            return self.season
        period = 7 * 86400.0 if bucket_s >= 86400.0 else 86400.0
        k = period / bucket_s
        return round(k) if k >= 2 and abs(k - round(k)) < 1e-9 else None

    @field_validator("adaptive_metrics", mode="before")
    @classmethod
    def _series_names(cls, v: object) -> object:
        # incidents.metrics spells latency without its unit; the series carry it (latency_p95_ms)
        if isinstance(v, list | tuple):
            return type(v)(f"{m}_ms" if m in ("latency_p50", "latency_p95") else m for m in v)
        return v


__all__ = [
    "MODEL_METRICS",
    "AlertsSection",
    "CorrelationSection",
    "CustomMetric",
    "KpiSection",
    "LiftSection",
    "RoiSection",
    "SeriesSection",
]
