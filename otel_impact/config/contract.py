"""Config of the telemetry contract: the tracking plan, the deployment trail and SLOs.

* ``tracking_plan`` — which events and prediction spans exist, their attributes (type, required,
  allowed values, cardinality cap), owner, instrumentation status and an example payload, plus
  the tolerances of ``otel-impact plan check``. The plan can live in its own YAML file
  (``tracking_plan: {file: plan.yaml}``, resolved against the config file's folder).
* ``deployments`` — how the model deployment audit trail is bucketed and split into phases.
* ``slos`` — model-endpoint SLOs (latency under a threshold, error rate) and pipeline SLOs
  (success rate, freshness) with error budgets and multi-window burn-rate alerts.

>>> spec = AttributeSpec.model_validate("int")
>>> spec.type, spec.required
('int', False)
>>> TrackingPlan.model_validate({"events": {"business.purchase": {"attributes": {"user.id": "string"}}}}).events[
...     "business.purchase"].status
'live'
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from otel_impact.config.base import Duration, Section, bucket_duration, positive_duration

AttrType = Literal["string", "int", "double", "bool", "enum"]
EntryStatus = Literal["planned", "live", "deprecated"]
CheckKind = Literal[
    "unknown_event",
    "missing_required",
    "wrong_type",
    "enum_violation",
    "cardinality",
    "volume_drop",
    "volume_spike",
    "deprecated_in_use",
]


class AttributeSpec(Section):
    """One attribute of an event or span. A bare type name (``user.id: string``) is shorthand."""

    type: AttrType = "string"
    required: bool = False
    values: tuple[str, ...] = ()  # allowed values of an enum
    max_cardinality: int | None = Field(default=None, ge=1)
    description: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"type": data} if isinstance(data, str) else data

    @field_validator("values", mode="before")
    @classmethod
    def _as_text(cls, v: Any) -> Any:
        if isinstance(v, list | tuple):
            return tuple(str(x).lower() if isinstance(x, bool) else str(x) for x in v)
        return v

    @model_validator(mode="after")
    def _enum_values(self) -> AttributeSpec:
        if self.type == "enum" and not self.values:
            raise ValueError("an enum attribute needs its allowed 'values'")
        if self.type != "enum" and self.values:
            raise ValueError("'values' applies only to type enum")
        return self


class PlanEntry(Section):
    """One event (``events.<EventName>``) or one model's prediction spans (``predictions.<model>``)."""

    owner: str | None = None
    status: EntryStatus = "live"
    description: str | None = None
    attributes: dict[str, AttributeSpec] = Field(default_factory=dict)
    example: dict[str, Any] | None = None
    volume: bool = True  # check volume drops/spikes for this entry


class VolumeCheck(Section):
    """Volume drop/spike rule: a full bucket below ``drop`` × or above ``spike`` × the median
    bucket count of the window is a violation (entries with a median under ``min_count`` skip)."""

    bucket: Duration = 3600.0
    drop: float = Field(default=0.2, ge=0, lt=1)
    spike: float = Field(default=5.0, gt=1)
    min_count: int = Field(default=20, ge=1)
    min_buckets: int = Field(default=4, ge=2)

    _bucket = field_validator("bucket")(bucket_duration)


class Tolerances(Section):
    """Violations allowed per check before ``plan check`` fails (rows for the row checks,
    attributes for ``cardinality``, buckets for the volume checks, event names for
    ``unknown_event``)."""

    unknown_event: int = Field(default=0, ge=0)
    missing_required: int = Field(default=0, ge=0)
    wrong_type: int = Field(default=0, ge=0)
    enum_violation: int = Field(default=0, ge=0)
    cardinality: int = Field(default=0, ge=0)
    volume_drop: int = Field(default=0, ge=0)
    volume_spike: int = Field(default=0, ge=0)
    deprecated_in_use: int = Field(default=0, ge=0)

    def of(self, kind: str) -> int:
        return int(getattr(self, kind))


class TrackingPlan(Section):
    """The tracking plan (``tracking_plan``) and the settings of its checks."""

    file: str | None = None  # load events/predictions from this YAML file instead
    events: dict[str, PlanEntry] = Field(default_factory=dict)
    predictions: dict[str, PlanEntry] = Field(default_factory=dict)
    ignore_events: tuple[str, ...] = ("impact.*",)  # never "unknown"; a trailing * is a prefix
    max_cardinality: int | None = Field(default=None, ge=1)  # default cap for attributes without one
    volume: VolumeCheck = VolumeCheck()
    tolerances: Tolerances = Tolerances()
    examples: int = Field(default=3, ge=1, le=20)  # offending rows kept per violation
    enabled: bool = True  # run as an analyzer stage when the plan has entries

    @model_validator(mode="after")
    def _file_or_inline(self) -> TrackingPlan:
        if self.file is not None and (self.events or self.predictions):
            raise ValueError("give the plan inline (events/predictions) or as 'file', not both")
        return self

    @property
    def empty(self) -> bool:
        return not (self.events or self.predictions)


class DeploymentsSection(Section):
    """Model deployment audit trail from prediction spans."""

    enabled: bool = True
    bucket: Duration = 3600.0
    phase_tolerance: float = Field(default=0.05, gt=0, lt=1)  # share change that starts a new phase
    min_phase_buckets: int = Field(default=2, ge=1)  # a change must last this long
    kpi_boundary: Literal["rollout_start", "majority", "complete"] = "rollout_start"

    _positive = field_validator("bucket")(positive_duration)
    _bucket = field_validator("bucket")(bucket_duration)


class BurnWindow(Section):
    """One multi-window burn-rate alert: fire while both windows burn faster than ``factor``."""

    long: Duration
    short: Duration
    factor: float = Field(gt=0)
    severity: Literal["critical", "warning"] = "critical"

    @model_validator(mode="after")
    def _order(self) -> BurnWindow:
        if not 0 < self.short < self.long:
            raise ValueError("need 0 < short < long")
        return self


# Google SRE workbook, "Alerting on SLOs", table 5-8 (99.9 % over 30 days): page on 2 % of the
# budget in 1 h or 5 % in 6 h; ticket on 10 % in 1 d or 10 % in 3 d.
DEFAULT_BURN_WINDOWS: tuple[BurnWindow, ...] = (
    BurnWindow(long=3600, short=300, factor=14.4, severity="critical"),
    BurnWindow(long=6 * 3600, short=1800, factor=6.0, severity="critical"),
    BurnWindow(long=86400, short=7200, factor=3.0, severity="warning"),
    BurnWindow(long=3 * 86400, short=6 * 3600, factor=1.0, severity="warning"),
)


class ModelSlo(Section):
    """A model-endpoint SLO: ``latency`` (a share ``objective`` of predictions faster than
    ``threshold_ms`` — p95 ≤ 200 ms is objective 0.95, threshold 200 ms) or ``error_rate``
    (a share ``objective`` of predictions without error)."""

    name: str
    model: str
    sli: Literal["latency", "error_rate"]
    objective: float = Field(gt=0, lt=1)
    threshold_ms: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _threshold(self) -> ModelSlo:
        if self.sli == "latency" and self.threshold_ms is None:
            raise ValueError("a latency SLO needs threshold_ms")
        if self.sli != "latency" and self.threshold_ms is not None:
            raise ValueError("threshold_ms applies only to a latency SLO")
        return self


class PipelineSlo(Section):
    """A pipeline SLO over ``pipeline.run`` events: ``success_rate`` (share of runs whose
    ``pipeline.status`` is in ``success_statuses``) or ``freshness`` (share of time the last
    successful run is at most ``max_age`` old)."""

    name: str
    pipeline: str
    sli: Literal["success_rate", "freshness"]
    objective: float = Field(gt=0, lt=1)
    max_age: Duration | None = None
    success_statuses: tuple[str, ...] = ("success", "ok", "succeeded")

    @model_validator(mode="after")
    def _max_age(self) -> PipelineSlo:
        if self.sli == "freshness" and not self.max_age:
            raise ValueError("a freshness SLO needs max_age")
        if self.sli != "freshness" and self.max_age is not None:
            raise ValueError("max_age applies only to a freshness SLO")
        return self


class SlosSection(Section):
    """SLOs with error budgets over ``period`` and burn-rate alerts evaluated every ``step``."""

    period: Duration = 30 * 86400.0
    step: Duration = 60.0
    burn_windows: tuple[BurnWindow, ...] = DEFAULT_BURN_WINDOWS
    models: tuple[ModelSlo, ...] = ()
    pipelines: tuple[PipelineSlo, ...] = ()

    _positive = field_validator("step", "period")(positive_duration)

    @model_validator(mode="after")
    def _unique(self) -> SlosSection:
        names = [s.name for s in self.models] + [s.name for s in self.pipelines]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"SLO names must be unique, repeated: {', '.join(dupes)}")
        return self


class ResourcesSection(Section):
    """CPU and memory of model services from the OTel process metrics, priced: when
    ``roi.compute_cost`` is 0 and a price is set, the measured cost becomes the ROI's compute cost."""

    enabled: bool = True
    cpu_hour_cost: float = Field(default=0.0, ge=0)
    memory_gib_hour_cost: float = Field(default=0.0, ge=0)
    cpu_metrics: tuple[str, ...] = ("process.cpu.time",)  # cumulative or delta seconds, summed over modes
    memory_metrics: tuple[str, ...] = ("process.memory.usage",)  # bytes, averaged over the window


__all__ = [
    "DEFAULT_BURN_WINDOWS",
    "AttrType",
    "AttributeSpec",
    "BurnWindow",
    "CheckKind",
    "DeploymentsSection",
    "EntryStatus",
    "ModelSlo",
    "PipelineSlo",
    "PlanEntry",
    "ResourcesSection",
    "SlosSection",
    "Tolerances",
    "TrackingPlan",
    "VolumeCheck",
]
