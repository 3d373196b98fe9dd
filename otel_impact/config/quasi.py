"""Config of the quasi-experimental rollout impact (``rollout_impact``).

Rollouts come from ``rollouts`` when given, else from the deployment trail (the newest model
version's first traffic, per value of ``segment_key``), else from ``kpi.rollout`` (all users at
once). Each business metric's ``measure`` series is analysed by interrupted time series, and by
synthetic control and difference-in-differences for segments the rollout reached before others.

The synthetic control matches the whole pre-period outcome by default. With ``predictors``
(other business metrics of the same segments, averaged over buckets counted from the rollout)
and/or ``outcome_lags`` it matches on those instead, with the data-driven predictor importance of
Abadie, Diamond & Hainmueller (2010):

>>> s = RolloutImpactSection.model_validate({"predictors": [{"metric": "price", "buckets": [-9, -1]}],
...     "outcome_lags": [-14, -9, -1]})
>>> s.predictors[0].buckets, s.outcome_lags
((-9, -1), (-14, -9, -1))

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


class Predictor(Section):
    """A synthetic-control predictor: business metric ``metric``'s ``measure`` series (default:
    the section's ``measure``) averaged over the buckets ``[first, last]`` counted from the
    rollout's first bucket (``-1`` = the last bucket before it)."""

    metric: str  # a configured business metric of the same segments
    measure: RolloutMeasure | None = None  # its series; default: rollout_impact.measure
    buckets: tuple[int, int]  # [first, last] from the rollout, both < 0: averaged

    @field_validator("buckets")
    @classmethod
    def _before(cls, v: tuple[int, int]) -> tuple[int, int]:
        if not v[0] <= v[1] < 0:
            raise ValueError("buckets must be [first, last] with first <= last < 0 (before the rollout)")
        return v


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
    predictors: tuple[Predictor, ...] = ()  # synthetic control matched on these, with a data-driven V
    outcome_lags: tuple[int, ...] = ()  # outcome buckets matched as predictors (-1 = the last pre bucket)

    @field_validator("outcome_lags")
    @classmethod
    def _lags_before(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if any(lag >= 0 for lag in v):
            raise ValueError("outcome_lags must be negative (buckets before the rollout, -1 = the last)")
        if len(set(v)) != len(v):
            raise ValueError("outcome_lags must not repeat a bucket")
        return v


__all__ = ["ExplicitRollout", "Predictor", "RolloutImpactSection", "RolloutMeasure"]
