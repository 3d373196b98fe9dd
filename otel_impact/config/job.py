"""Config sections of the production job: ``job``, ``export``, ``tree`` and ``evaluation``.

``job`` controls incremental runs (watermark, trailing re-analysis for late data, lock expiry);
``export`` where the ``impact.*`` results go (the store itself, or OTLP; empty fields fall back to
the standard ``OTEL_EXPORTER_OTLP_*`` variables); ``tree`` the metric tree shown by ``otel-impact tree``;
``evaluation`` the offline/online decision matrix per AI feature.

>>> JobSection().lookback, JobSection().first_run
(86400.0, 2592000.0)
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from otel_impact.config.base import Duration, Section, bucket_duration, positive_duration
from otel_impact.config.sqlsource import checked_sql

_JOB_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
STORE_ENDPOINT = "store"  # export.endpoint value: write results straight into the analysed store


class JobSection(Section):
    """Incremental, idempotent scheduling of ``otel-impact analyze``.

    Each run analyses ``[watermark - lookback, now]`` (late data inside ``lookback`` is
    re-analysed; the exported points replace the earlier ones in the deduplicated views); the very
    first run analyses the trailing ``first_run``. ``lock_ttl`` bounds how long a crashed run can
    block the next one.
    """

    name: str = "impact"
    lookback: Duration = 86400.0
    first_run: Duration = 30 * 86400.0
    lock_ttl: Duration = 3600.0

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _JOB_NAME.match(v):
            raise ValueError(f"must be 1-64 letters, digits, '_', '.', '-', got {v!r}")
        return v

    _pos = field_validator("first_run", "lock_ttl")(positive_duration)


class ExportSection(Section):
    """Where ``impact.*`` metrics and events go: the store itself, or an OTLP endpoint.

    ``endpoint: store`` writes them straight into the analysed store's exporter-layout tables
    (the rows a Collector would have written from the OTLP export). An ``http(s)://`` endpoint
    exports over OTLP. Left unset, results go over OTLP when an ``OTEL_EXPORTER_OTLP_ENDPOINT``
    (or ``_METRICS_ENDPOINT`` / ``_LOGS_ENDPOINT``) variable is set, else into the store.
    ``protocol``/``headers``/``timeout`` left unset use the standard ``OTEL_EXPORTER_OTLP_*``
    variables (default ``http/protobuf``). ``retries`` is our own bounded retry on top of the
    exporter's. ``enabled: false`` exports nothing (the job's watermark then stays put).
    """

    enabled: bool = True
    endpoint: str | None = None
    protocol: Literal["http/protobuf", "grpc"] | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: Duration | None = None
    retries: int = Field(default=3, ge=0, le=20)
    retry_backoff: Duration = 1.0
    service_name: str = "otel-impact-analyzer"
    insecure: bool = True

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, v: str | None) -> str | None:
        if v is not None and v != STORE_ENDPOINT and not re.match(r"^https?://[^\s/]+", v):
            raise ValueError(f"must be an http(s):// URL or {STORE_ENDPOINT!r}, got {v!r}")
        return v


TreeKind = Literal["north_star", "product", "model", "operational", "cost"]


class TreeSource(Section):
    """Where a tree node's values come from: exactly one of the four kinds.

    ``event``: sum of ``value`` (or count with ``agg: count``) of OTel events with this EventName.
    ``model``: predictions of this ``ml.model.name`` (``agg``: count, or mean score with ``mean``).
    ``metric``: an OTel metric by name from the gauge/sum tables (mean Value per bucket).
    ``sql``: any ClickHouse query returning columns ``ts`` and ``value``.
    """

    event: str | None = None
    model: str | None = None
    metric: str | None = None
    sql: str | None = None
    agg: Literal["sum", "count", "mean"] = "sum"

    _sql = field_validator("sql")(checked_sql)

    @model_validator(mode="after")
    def _one(self) -> TreeSource:
        given = [k for k in ("event", "model", "metric", "sql") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'event', 'model', 'metric' or 'sql'")
        return self

    @property
    def kind(self) -> str:
        for k in ("event", "model", "metric", "sql"):
            if getattr(self, k) is not None:
                return k
        raise AssertionError("validated source has a kind")


class TreeNode(Section):
    """One node of the metric tree (north star → product → model / operational / cost)."""

    name: str
    kind: TreeKind = "product"
    owner: str | None = None
    dashboard: str | None = None
    source: TreeSource | None = None
    children: tuple[TreeNode, ...] = ()


class TreeSection(Section):
    """The metric tree: ``root`` plus how status and correlations are measured."""

    root: TreeNode | None = None
    live_within: Duration = 7 * 86400.0
    bucket: Duration = 86400.0
    lookback: Duration = 30 * 86400.0

    _pos = field_validator("live_within", "bucket", "lookback")(positive_duration)
    _bucket = field_validator("bucket")(bucket_duration)

    @model_validator(mode="after")
    def _unique_names(self) -> TreeSection:
        names: list[str] = []

        def walk(node: TreeNode) -> None:
            names.append(node.name)
            for child in node.children:
                walk(child)

        if self.root is not None:
            walk(self.root)
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"tree node names must be unique, repeated: {', '.join(dupes)}")
        return self


class OfflineMetric(Section):
    """The offline (eval-set) metric of a feature: a fixed ``value`` or an ``sql`` returning one."""

    name: str
    threshold: float
    value: float | None = None
    sql: str | None = None
    higher_is_better: bool = True

    _sql = field_validator("sql")(checked_sql)

    @model_validator(mode="after")
    def _one(self) -> OfflineMetric:
        if (self.value is None) == (self.sql is None):
            raise ValueError("give exactly one of 'value' or 'sql'")
        return self


class OnlineMetric(Section):
    """The online metric, read from the analysis result.

    ``series``: a series by name, summarised with ``stat`` (mean of its buckets by default);
    ``lift``: the lift estimate of this business metric.
    """

    series: str | None = None
    lift: str | None = None
    stat: Literal["mean", "last", "sum"] = "mean"
    threshold: float
    higher_is_better: bool = True

    @model_validator(mode="after")
    def _one(self) -> OnlineMetric:
        if (self.series is None) == (self.lift is None):
            raise ValueError("give exactly one of 'series' or 'lift'")
        return self


class EvaluationFeature(Section):
    """One AI feature of the evaluation matrix."""

    name: str
    offline: OfflineMetric
    online: OnlineMetric


class EvaluationSection(Section):
    """Offline × online thresholds → ship / iterate on UX / fix the model / both."""

    features: tuple[EvaluationFeature, ...] = ()

    @model_validator(mode="after")
    def _unique(self) -> EvaluationSection:
        names = [f.name for f in self.features]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"feature names must be unique, repeated: {', '.join(dupes)}")
        return self
