"""Config sections of the incidents stage: ``lineage``, ``pipelines`` and ``incidents``.

``lineage`` is the graph model → features → datasets → pipelines used to rank upstream events
(an event on a dataset feeding the model outranks an unrelated pipeline); ``pipelines`` gives
each pipeline's expected cadence, from which late and missing runs are derived (freshness);
``incidents`` says which model metrics to watch, how to bucket them, how far back to look for
causes and how data-quality drift is measured.

>>> cfg = IncidentsSection()
>>> cfg.metrics, cfg.bucket, cfg.link_window
(('auc', 'accuracy', 'mean_score'), 86400.0, 259200.0)
>>> Lineage.model_validate({"models": {"ranker": {"features": ["user_ctr"]}},
...                         "features": {"user_ctr": {"datasets": ["clicks"]}}}).models["ranker"].features
('user_ctr',)
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from otel_impact.config.base import Duration, Section, bucket_duration, positive_duration

WatchedMetric = Literal["auc", "accuracy", "mean_score", "volume", "error_rate", "latency_p95"]


class LineageModel(Section):
    """A model and the features it reads."""

    features: tuple[str, ...] = ()


class LineageFeature(Section):
    """A feature and the datasets it is computed from."""

    datasets: tuple[str, ...] = ()


class LineageDataset(Section):
    """A dataset and the pipelines that write it."""

    pipelines: tuple[str, ...] = ()


class Lineage(Section):
    """model → features → datasets → pipelines (names as in ``ml.model.name``, ``dataset.name``,
    ``pipeline.name``). A model's features must be declared under ``features``; datasets need
    not be declared (a dataset without known pipelines still matches by ``dataset.name``)."""

    models: dict[str, LineageModel] = Field(default_factory=dict)
    features: dict[str, LineageFeature] = Field(default_factory=dict)
    datasets: dict[str, LineageDataset] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_features(self) -> Lineage:
        for model, spec in self.models.items():
            unknown = [f for f in spec.features if f not in self.features]
            if unknown:
                raise ValueError(
                    f"models.{model}.features names undeclared feature(s) {', '.join(unknown)}; "
                    "declare them under lineage.features"
                )
        return self

    def maps(
        self,
    ) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
        """The three edges as plain mappings (for :meth:`otel_impact.analyze.linking.Lineage.from_maps`)."""
        return (
            {m: s.features for m, s in self.models.items()},
            {f: s.datasets for f, s in self.features.items()},
            {d: s.pipelines for d, s in self.datasets.items()},
        )


class PipelineSchedule(Section):
    """Expected cadence of one pipeline: a run every ``schedule``, late after ``grace`` more."""

    schedule: Duration
    grace: Duration = 0.0
    dataset: str = ""  # dataset.name put on synthetic late/missing events (optional)

    _positive = field_validator("schedule")(positive_duration)


class DriftSection(Section):
    """Score-distribution drift, feature-hash novelty and missing-value rates per bucket."""

    reference: Duration = 7 * 86400.0  # the first part of the analysed window is the reference
    bins: int = Field(default=10, ge=2, le=100)  # PSI bins (reference quantiles)
    sample: int = Field(default=5000, ge=100, le=1_000_000)  # scores per bucket (deterministic hash sample)
    psi_alert: float = Field(default=0.25, gt=0)  # PSI at or above → `drift` alert
    ks_alpha: float = Field(default=0.01, gt=0, lt=1)  # BH-FDR of the per-bucket KS tests → drift
    psi_warn: float = Field(default=0.1, gt=0)
    novelty_alert: float = Field(default=0.5, gt=0, le=1)  # share of unseen feature hashes → alert
    min_count: int = Field(default=100, ge=1)  # fewer scores in a bucket → reported, never "drift"

    _positive = field_validator("reference")(positive_duration)


class IncidentsSection(Section):
    """Which model metrics to watch for anomalies and how to link them upstream."""

    enabled: bool = True
    metrics: tuple[WatchedMetric, ...] = ("auc", "accuracy", "mean_score")
    bucket: Duration = 86400.0
    link_window: Duration = 3 * 86400.0  # upstream events this long before an anomaly are candidates
    history: Duration = 28 * 86400.0  # metrics are read this far back (baseline for short windows)
    season: Duration | None = 7 * 86400.0  # seasonal period, used once 3 full seasons are analysed
    alpha: float = Field(default=0.01, gt=0, lt=1)  # false-alarm level per series
    min_effect: float = Field(default=0.0, ge=0)  # ignore shifts smaller than this (metric units)
    min_score: float = Field(default=0.15, ge=0, le=1)  # weakest upstream link still reported
    score_threshold: float = Field(default=0.5, ge=0, le=1)  # score ≥ threshold predicts 1 (accuracy)
    segments: bool = False  # also watch each configured segment value (not only all users)
    drift: DriftSection = DriftSection()

    _positive = field_validator("bucket", "link_window", "history")(positive_duration)
    _bucket = field_validator("bucket")(bucket_duration)

    @field_validator("metrics", mode="before")
    @classmethod
    def _same_names_as_series(cls, v: object) -> object:
        # the series and alerts sections spell latency with its unit; accept that spelling here too
        if isinstance(v, list | tuple):
            return type(v)("latency_p95" if m == "latency_p95_ms" else m for m in v)
        return v

    @field_validator("metrics")
    @classmethod
    def _unique(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(v)) != len(v):
            raise ValueError("metrics must be unique")
        return v

    @property
    def period(self) -> int | None:
        """Seasonal period in whole buckets (``season / bucket`` rounded), None when under 2."""
        if self.season is None:
            return None
        period = round(self.season / self.bucket)
        return period if period >= 2 else None


__all__ = [
    "DriftSection",
    "IncidentsSection",
    "Lineage",
    "LineageDataset",
    "LineageFeature",
    "LineageModel",
    "PipelineSchedule",
    "WatchedMetric",
]
