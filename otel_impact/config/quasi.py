"""Config of the quasi-experimental rollout impact (``rollout_impact``).

Rollouts come from ``rollouts`` when given, else from the deployment trail (the newest model
version's first traffic, per value of ``segment_key``), else from ``kpi.rollout`` (all users at
once). Each business metric's ``measure`` series is analysed by interrupted time series, and by
synthetic control and difference-in-differences for segments the rollout reached before others.

>>> s = RolloutImpactSection.model_validate({"segment_key": "market", "rollouts": [
...     {"name": "ranker v2", "segments": {"de": "2026-11-10T00:00:00Z"}}]})
>>> s.rollouts[0].segments["de"].day
10
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, field_validator, model_validator

from otel_impact.config.base import Section

RolloutMeasure = Literal["value", "events", "conversion_rate", "value_per_user", "active_users"]


def _aware(v: datetime | None) -> datetime | None:
    if v is not None and v.tzinfo is None:
        raise ValueError("timestamps must carry a timezone, e.g. 2026-11-20T00:00:00Z")
    return v


class ExplicitRollout(Section):
    """A rollout the telemetry does not show: ``at`` (all users) and/or per-segment starts."""

    name: str = "rollout"
    at: datetime | None = None
    segments: dict[str, datetime] = Field(default_factory=dict)  # segment value -> start

    _at = field_validator("at")(_aware)

    @field_validator("segments")
    @classmethod
    def _segments_aware(cls, v: dict[str, datetime]) -> dict[str, datetime]:
        for ts in v.values():
            _aware(ts)
        return v

    @model_validator(mode="after")
    def _some(self) -> ExplicitRollout:
        if self.at is None and not self.segments:
            raise ValueError("give 'at' or 'segments'")
        return self


class RolloutImpactSection(Section):
    """Impact of rollouts without an A/B test (interrupted time series, synthetic control, DiD)."""

    enabled: bool = True
    metrics: tuple[str, ...] = ()  # business metric names; empty = all configured
    measure: RolloutMeasure = "value"  # which business series per bucket is the outcome
    segment_key: str | None = None  # units of the synthetic control; default: first of `segments`
    season: int | None = Field(default=7, ge=1)  # buckets per seasonal cycle (7 = weekly on days)
    level: float = Field(default=0.95, gt=0, lt=1)
    min_pre: int = Field(default=8, ge=4)  # buckets before a rollout needed for any estimate
    min_post: int = Field(default=3, ge=1)  # buckets a donor must stay untreated after the rollout
    max_pre_rmspe: float = Field(default=0.10, gt=0)  # synthetic control refused above this pre-fit error
    share: float = Field(default=0.05, gt=0, lt=1)  # new version's traffic share that starts a rollout
    rollouts: tuple[ExplicitRollout, ...] = ()


__all__ = ["ExplicitRollout", "RolloutImpactSection", "RolloutMeasure"]
