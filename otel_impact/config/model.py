"""Typed model of ``impact.yaml``.

Each analysis stage owns one section; this module composes them into :class:`ImpactConfig`.
All models are frozen and reject unknown keys (see :mod:`otel_impact.config.base`).
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field, field_validator, model_validator

from otel_impact.config.base import PLAIN_NAME, Duration, Section, plain_name, positive_duration
from otel_impact.config.contract import DeploymentsSection, ResourcesSection, SlosSection, TrackingPlan
from otel_impact.config.incidents import IncidentsSection, Lineage, PipelineSchedule
from otel_impact.config.job import EvaluationSection, ExportSection, JobSection, TreeSection
from otel_impact.config.llm import LlmSection
from otel_impact.config.quasi import RolloutImpactSection
from otel_impact.config.sqlsource import checked_sql
from otel_impact.config.stats import (
    AlertsSection,
    CorrelationSection,
    KpiSection,
    LiftSection,
    RoiSection,
    SeriesSection,
)

JoinKey = Literal["user.id", "session.id", "ml.request.id", "ml.prediction.id"]
AttributionModel = Literal[
    "last_touch", "first_touch", "linear", "position_based", "time_decay", "markov", "shapley"
]
ALL_ATTRIBUTION_MODELS: tuple[AttributionModel, ...] = get_args(AttributionModel)


class SqlColumns(Section):
    """Column mapping of a SQL business source: which result column holds what."""

    ts: str = "ts"
    key: str = "key"
    value: str | None = "value"


class Source(Section):
    """Where a business metric's events come from: exactly one of ``event`` or ``sql``.

    ``event``: OTel log events with this EventName (``business.purchase``).
    ``sql``: any ClickHouse query (a table, ``postgresql()``, ``s3()`` …) with ``columns`` naming
    which result columns hold the timestamp, the join key and the value.
    """

    event: str | None = None
    sql: str | None = None
    columns: SqlColumns | None = None

    _sql = field_validator("sql")(checked_sql)

    @model_validator(mode="after")
    def _one_kind(self) -> Source:
        if (self.event is None) == (self.sql is None):
            raise ValueError("give exactly one of 'event' or 'sql'")
        if self.event is not None and self.columns is not None:
            raise ValueError("'columns' applies only to an 'sql' source")
        return self

    @property
    def sql_columns(self) -> SqlColumns:
        return self.columns or SqlColumns()


class BusinessMetric(Section):
    """One business metric and how outcomes join to predictions."""

    name: str
    source: Source
    key: JoinKey = "user.id"
    window: Duration = 3 * 86400.0
    value: Literal["sum", "count"] = "sum"

    _valid_name = field_validator("name")(plain_name)

    _positive_window = field_validator("window")(positive_duration)


class IdentityColumns(Section):
    other_id: str = "other_id"
    user_id: str = "user_id"


class Identity(Section):
    """Maps other identifiers (as found in business sources) to ``user.id``."""

    sql: str
    columns: IdentityColumns = IdentityColumns()

    _sql = field_validator("sql")(checked_sql)


class PositionBased(Section):
    first: float = 0.4
    last: float = 0.4

    @model_validator(mode="after")
    def _shares(self) -> PositionBased:
        if not (0 <= self.first <= 1 and 0 <= self.last <= 1 and self.first + self.last <= 1):
            raise ValueError("first and last must be in [0, 1] and sum to at most 1")
        return self


class TimeDecay(Section):
    half_life: Duration = 86400.0

    _positive = field_validator("half_life")(positive_duration)


class Attribution(Section):
    models: tuple[AttributionModel, ...] = ALL_ATTRIBUTION_MODELS
    position_based: PositionBased = PositionBased()
    time_decay: TimeDecay = TimeDecay()
    max_channels_shapley: int = Field(default=12, ge=1, le=20)


class ImpactConfig(Section):
    """The whole ``impact.yaml``."""

    business_metrics: tuple[BusinessMetric, ...] = ()
    identity: Identity | None = None
    segments: tuple[str, ...] = ()
    models: tuple[str, ...] = ()  # ml.model.name values to analyse; empty = all
    database: str = "default"
    attribution: Attribution = Attribution()
    job: JobSection = JobSection()
    export: ExportSection = ExportSection()
    tree: TreeSection = TreeSection()
    evaluation: EvaluationSection = EvaluationSection()
    lineage: Lineage = Lineage()
    pipelines: dict[str, PipelineSchedule] = Field(default_factory=dict)
    incidents: IncidentsSection = IncidentsSection()
    series: SeriesSection = SeriesSection()
    correlation: CorrelationSection = CorrelationSection()
    lift: LiftSection = LiftSection()
    roi: RoiSection = RoiSection()
    kpi: KpiSection = KpiSection()
    alerts: AlertsSection = AlertsSection()
    tracking_plan: TrackingPlan = TrackingPlan()
    deployments: DeploymentsSection = DeploymentsSection()
    slos: SlosSection = SlosSection()
    resources: ResourcesSection = ResourcesSection()
    rollout_impact: RolloutImpactSection = RolloutImpactSection()
    llm: LlmSection = LlmSection()

    @field_validator("segments")
    @classmethod
    def _segment_keys(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for key in v:
            if not PLAIN_NAME.match(key):
                raise ValueError(f"segment key {key!r} is not a plain identifier")
        if len(set(v)) != len(v):
            raise ValueError("segment keys must be unique")
        return v

    @model_validator(mode="after")
    def _unique_metrics(self) -> ImpactConfig:
        names = [m.name for m in self.business_metrics]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"business metric names must be unique, repeated: {', '.join(dupes)}")
        return self

    def business_metric(self, name: str) -> BusinessMetric:
        for metric in self.business_metrics:
            if metric.name == name:
                return metric
        raise KeyError(name)
