"""Series stage: per-bucket model and business series, and the alert-rules stage.

:func:`run` aggregates in ClickHouse (:mod:`otel_impact.store.series`, plus the stitched
conversion rate from :func:`otel_impact.store.stitch.conversions_by_bucket`) and lays every
series on one bucket grid ``window.start + k · series.bucket``. It writes ``result["series"]`` —
one row per series: ``name``, ``kind`` (model/business), ``segment`` (``{}`` = all users),
``ml.model.name`` / ``ml.model.version`` (model series; version ``null`` = all versions),
``business_metric`` (for ``ctr``), ``buckets`` (ISO bucket starts) and ``values`` — and caches a
:class:`SeriesSet` under ``ctx.cache["series"]`` for the correlation, lift and alert stages.

Model series: ``volume``, ``mean_score``, ``error_rate``, ``latency_p50_ms``, ``latency_p95_ms``,
``accuracy``, ``precision``, ``recall``, ``auc``, ``calibration_error``, ``labeled``, ``ctr``
(click-through rate: share of labelled predictions whose ``ml.outcome`` is positive) and
``conversion_rate`` (one per business metric: share of predictions followed by an outcome of
that metric within its join window, stitched in ClickHouse). Business
series per metric ``<m>``: ``<m>`` (value), ``<m>.events``, ``<m>.conversion_rate``,
``<m>.value_per_user``, ``<m>.active_users``. Custom SQL metrics keep their configured name.

:func:`alert_rules` evaluates the ``alerts`` section (thresholds + adaptive baselines) on these
series and the lift results, appending to ``result["alerts"]``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from otel_impact import semconv
from otel_impact.analyze import alerts as rules
from otel_impact.analyze.results import DegenerateDataWarning
from otel_impact.store import series as store_series
from otel_impact.store.stitch import conversions_by_bucket

if TYPE_CHECKING:
    from otel_impact.config.stats import AlertsSection
    from otel_impact.pipeline import JobContext

CACHE_KEY = "series"
_MODEL_MEASURES = ("volume", "mean_score", "error_rate", "latency_p50_ms", "latency_p95_ms")
_QUALITY_MEASURES = ("labeled", "ctr", "accuracy", "precision", "recall", "auc", "calibration_error")
_BUSINESS_MEASURES = {
    "value": "",
    "events": ".events",
    "conversion_rate": ".conversion_rate",
    "value_per_user": ".value_per_user",
    "active_keys": ".active_users",
}
_ZERO_WHEN_ABSENT = {"volume", "labeled", "value", "events", "active_keys"}


@dataclass(frozen=True)
class Series:
    """One series on the shared bucket grid."""

    name: str
    kind: str  # "model" | "business"
    segment: tuple[tuple[str, str], ...]  # () = all users
    values: np.ndarray
    model_name: str | None = None
    model_version: str | None = None  # None = all versions
    business_metric: str | None = None


@dataclass
class SeriesSet:
    """All series of a run plus the bucket grid (datetime64[ns] bucket starts)."""

    buckets: np.ndarray
    bucket_s: float
    items: list[Series] = field(default_factory=list)

    def find(
        self,
        name: str,
        segment: tuple[tuple[str, str], ...] = (),
        *,
        model_name: str | None = None,
        model_version: str | None = None,
        business_metric: str | None = None,
    ) -> Series | None:
        for s in self.items:
            if (
                s.name == name
                and s.segment == segment
                and s.model_version == model_version
                and (model_name is None or s.model_name == model_name)
                and (business_metric is None or s.business_metric in (None, business_metric))
            ):
                return s
        return None

    def model_names(self) -> list[str]:
        return sorted({s.model_name for s in self.items if s.model_name})

    def segments(self) -> list[tuple[tuple[str, str], ...]]:
        seen = {s.segment for s in self.items if s.segment}
        return [(), *sorted(seen)]

    def times(self) -> list[datetime]:
        return [bucket_time(b) for b in self.buckets]


def bucket_time(value: np.datetime64) -> datetime:
    """A datetime64[ns] bucket start as an aware UTC datetime."""
    ns = int(value.astype("datetime64[ns]").astype(np.int64))
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ns // 1000)


def segment_json(segment: tuple[tuple[str, str], ...]) -> dict[str, str]:
    return dict(segment)


@contextmanager
def collect_warnings(ctx: JobContext, where: str) -> Iterator[None]:
    """Copy degenerate-data warnings raised inside the block into the job's warnings (once each)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DegenerateDataWarning)
        yield
    seen: set[str] = set()
    for w in caught:
        if issubclass(w.category, DegenerateDataWarning):
            text = f"{where}: {w.message}"
            if text not in seen and text not in ctx.warnings:
                seen.add(text)
                ctx.warn(text)


def _grid(ctx: JobContext) -> tuple[np.ndarray, int, int]:
    bucket_ns = round(ctx.config.series.bucket * 1e9)
    start_ns = int(np.datetime64(ctx.window.start.replace(tzinfo=None), "ns").astype(np.int64))
    count = max(1, math.ceil(ctx.window.seconds / ctx.config.series.bucket))
    grid = (start_ns + bucket_ns * np.arange(count, dtype=np.int64)).astype("datetime64[ns]")
    return grid, start_ns, bucket_ns


def _spread(
    cols: dict[str, np.ndarray], measure: str, rows: np.ndarray, idx: np.ndarray, count: int
) -> np.ndarray:
    out = np.full(count, 0.0 if measure in _ZERO_WHEN_ABSENT else np.nan)
    out[idx[rows]] = cols[measure][rows]
    return out


def _groups(cols: dict[str, np.ndarray], keys: tuple[str, ...]) -> dict[tuple[Any, ...], np.ndarray]:
    n = len(cols["bucket"])
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i in range(n):
        groups.setdefault(tuple(cols[k][i] for k in keys), []).append(i)
    return {k: np.asarray(v, dtype=np.int64) for k, v in groups.items()}


def _index(cols: dict[str, np.ndarray], start_ns: int, bucket_ns: int) -> np.ndarray:
    return (cols["bucket"].astype(np.int64) - start_ns) // bucket_ns


def _rate(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _seg(key: str, value: str) -> tuple[tuple[str, str], ...]:
    return ((key, value),) if key else ()


def build(ctx: JobContext) -> SeriesSet:
    """Query the store and lay every series on the bucket grid."""
    cfg, window, bucket_s = ctx.config, ctx.window, ctx.config.series.bucket
    grid, start_ns, bucket_ns = _grid(ctx)
    count = grid.size
    out = SeriesSet(grid, bucket_s)
    dims = ("model_name", "model_version", "segment_key", "segment_value")
    for cols, measures in (
        (store_series.model_series(ctx.client, cfg, window, bucket_s), _MODEL_MEASURES),
        (store_series.quality_series(ctx.client, cfg, window, bucket_s), _QUALITY_MEASURES),
    ):
        idx = _index(cols, start_ns, bucket_ns)
        for (mn, mv, sk, sv), rows in _groups(cols, dims).items():
            for m in measures:
                values = _spread(cols, m, rows, idx, count)
                out.items.append(Series(m, "model", _seg(sk, sv), values, mn, mv or None))
    for bm in cfg.business_metrics:
        conv = conversions_by_bucket(ctx.client, cfg, window, bucket_s, metric=bm.name)
        idx = _index(conv, start_ns, bucket_ns)
        totals: dict[tuple[str, str, str], tuple[np.ndarray, np.ndarray]] = {}
        for (mn, mv, sk, sv), rows in _groups(conv, dims).items():
            preds = _spread(conv, "predictions", rows, idx, count)
            converted = _spread(conv, "converted", rows, idx, count)
            out.items.append(
                Series("conversion_rate", "model", _seg(sk, sv), _rate(converted, preds), mn, mv, bm.name)
            )
            p0, c0 = totals.get((mn, sk, sv), (np.zeros(count), np.zeros(count)))
            totals[(mn, sk, sv)] = (p0 + preds, c0 + converted)
        for (mn, sk, sv), (preds, converted) in totals.items():  # all versions together
            out.items.append(
                Series("conversion_rate", "model", _seg(sk, sv), _rate(converted, preds), mn, None, bm.name)
            )
        cols = store_series.business_series(ctx.client, cfg, window, bucket_s, bm)
        idx = _index(cols, start_ns, bucket_ns)
        for (sk, sv), rows in _groups(cols, ("segment_key", "segment_value")).items():
            for m, suffix in _BUSINESS_MEASURES.items():
                values = _spread(cols, m, rows, idx, count)
                out.items.append(
                    Series(bm.name + suffix, "business", _seg(sk, sv), values, business_metric=bm.name)
                )
        if not any(s.business_metric == bm.name and s.kind == "business" for s in out.items):
            zeros = np.zeros(count)
            for m, suffix in _BUSINESS_MEASURES.items():
                values = zeros if m in _ZERO_WHEN_ABSENT else np.full(count, np.nan)
                out.items.append(Series(bm.name + suffix, "business", (), values, business_metric=bm.name))
    for i, custom in enumerate(cfg.series.custom):
        cols = store_series.custom_series(ctx.client, cfg, window, bucket_s, custom, i)
        idx = _index(cols, start_ns, bucket_ns)
        values = np.full(count, np.nan)
        ok = (idx >= 0) & (idx < count)
        values[idx[ok]] = cols["value"][ok]
        out.items.append(Series(custom.name, custom.kind, (), values))
    return out


def series_json(s: Series, buckets: list[datetime]) -> dict[str, Any]:
    row: dict[str, Any] = {"name": s.name, "kind": s.kind, "segment": segment_json(s.segment)}
    if s.kind == "model" and s.model_name is not None:
        row[semconv.ML_MODEL_NAME] = s.model_name
        row[semconv.ML_MODEL_VERSION] = s.model_version
    if s.business_metric is not None:
        row["business_metric"] = s.business_metric
    row["buckets"] = buckets
    row["values"] = [float(v) for v in s.values]
    return row


def run(ctx: JobContext) -> None:
    """Build the series, cache them, and write ``result["series"]``."""
    built = build(ctx)
    ctx.cache[CACHE_KEY] = built
    times = built.times()
    ctx.result["series"] = [series_json(s, times) for s in built.items]
    if not any(s.model_name for s in built.items):
        ctx.warn("series: no predictions in the window")


def _alert_json(ctx: JobContext, alert: rules.Alert, times: list[datetime]) -> dict[str, Any]:
    at = times[alert.index] if 0 <= alert.index < len(times) else ctx.window.end
    return {
        "rule": alert.rule,
        "severity": alert.severity,
        "state": alert.state,
        "at": at,
        "message": alert.message,
        "attributes": dict(alert.attributes),
    }


def _episodes(
    cfg: AlertsSection,
    rule: str,
    cond: np.ndarray,
    values: np.ndarray,
    message: str,
    attributes: dict[str, str],
    *,
    severity: rules.Severity = "warning",
) -> list[rules.Alert]:
    """Firing/resolved alerts of one rule's condition with the configured trigger/clear counts."""
    return rules.alerts_from_condition(
        rule,
        cond,
        values=values,
        message=message,
        attributes=attributes,
        severity=severity,
        trigger_after=cfg.trigger_after,
        clear_after=cfg.clear_after,
    )


def alert_rules(ctx: JobContext) -> None:
    """Threshold and adaptive alert rules on the series and lift results (appends to ``alerts``)."""
    cfg = ctx.config.alerts
    out: list[dict[str, Any]] = ctx.result.setdefault("alerts", [])
    built: SeriesSet | None = ctx.cache.get(CACHE_KEY)
    if not cfg.enabled:
        return
    if built is not None:
        times = built.times()
        for model in built.model_names():
            attrs = {semconv.ML_MODEL_NAME: model}
            acc = built.find("accuracy", model_name=model)
            if acc is not None:
                labeled = built.find("labeled", model_name=model)
                n = labeled.values if labeled is not None else np.full(acc.values.size, np.nan)
                with np.errstate(invalid="ignore", divide="ignore"):
                    se = np.sqrt(acc.values * (1 - acc.values) / n)
                cond = rules.drop_condition(acc.values, cfg.accuracy_drop, halflife=cfg.halflife, se=se)
                msg = f"{model}: accuracy {{value:.3f}} dropped more than {cfg.accuracy_drop:g} below its baseline"
                for a in _episodes(cfg, "accuracy_drop", cond, acc.values, msg, attrs):
                    out.append(_alert_json(ctx, a, times))
            lat = built.find("latency_p95_ms", model_name=model)
            if lat is not None:
                cond = rules.threshold_condition(lat.values, ">", cfg.latency_p95_ms)
                msg = f"{model}: latency p95 {{value:.0f}} ms above {cfg.latency_p95_ms:g} ms"
                for a in _episodes(cfg, "latency_p95", cond, lat.values, msg, attrs, severity="critical"):
                    out.append(_alert_json(ctx, a, times))
            if cfg.adaptive:
                for name in cfg.adaptive_metrics:
                    s = built.find(name, model_name=model)
                    if s is None:
                        continue
                    z = rules.robust_z(
                        s.values,
                        halflife=cfg.halflife,
                        window=cfg.baseline_buckets,
                        min_history=cfg.min_history,
                        season=cfg.season,
                    )
                    cond = np.where(np.isnan(z), np.nan, (np.abs(z) > cfg.z_threshold).astype(float))
                    msg = f"{model}: {name} {{value:.4g}} left its adaptive baseline (|z| > {cfg.z_threshold:g})"
                    for a in _episodes(cfg, f"adaptive_{name}", cond, s.values, msg, attrs):
                        out.append(_alert_json(ctx, a, times))
    _drift_alerts(ctx, out)
    for row in ctx.result.get("lift") or []:
        est = row.get("estimate")
        if row.get("segment") or not isinstance(est, float) or not math.isfinite(est):
            continue
        if est < cfg.business_impact:
            out.append(
                {
                    "rule": "business_impact",
                    "severity": "warning",
                    "state": "firing",
                    "at": ctx.window.end,
                    "message": f"{row.get('metric')}: lift {100 * est:.2f} % below {100 * cfg.business_impact:g} %",
                    "attributes": {semconv.IMPACT_BUSINESS_METRIC: str(row.get("metric"))},
                }
            )


def _drift_alerts(ctx: JobContext, out: list[dict[str, Any]]) -> None:
    """``drift_score`` alerts from the data-quality rows (PSI per model × bucket), one per episode."""
    cfg = ctx.config.alerts
    by_model: dict[str, list[tuple[str, float]]] = {}
    for row in ctx.result.get("data_quality") or []:
        if not isinstance(row, dict):
            continue
        score = row.get("drift_score", row.get("psi"))
        if isinstance(score, int | float) and not isinstance(score, bool):
            model = str(row.get(semconv.ML_MODEL_NAME, ""))
            at = row.get("bucket") or ctx.window.end
            by_model.setdefault(model, []).append(
                (str(at) if not isinstance(at, datetime) else at.isoformat(), float(score))
            )
    for model, points in by_model.items():
        points.sort()
        values = np.asarray([v for _, v in points])
        cond = rules.threshold_condition(values, ">", cfg.drift_score)
        msg = f"{model}: drift score {{value:.3f}} above {cfg.drift_score:g}"
        for a in _episodes(cfg, "drift_score", cond, values, msg, {semconv.ML_MODEL_NAME: model}):
            row = {
                "rule": a.rule,
                "severity": a.severity,
                "state": a.state,
                "at": points[a.index][0],
                "message": a.message,
                "attributes": dict(a.attributes),
            }
            out.append(row)


__all__ = ["CACHE_KEY", "Series", "SeriesSet", "alert_rules", "build", "collect_warnings", "run"]
