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
from scipy import stats

from otel_impact import semconv
from otel_impact.analyze import alerts as rules
from otel_impact.analyze.results import DegenerateDataWarning
from otel_impact.context import parse_iso
from otel_impact.records import Alert, make_alert
from otel_impact.stages.graph import Stage
from otel_impact.store import series as store_series
from otel_impact.store.stitch import conversions_by_bucket

if TYPE_CHECKING:
    from otel_impact.context import JobContext

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


def group_rows(cols: dict[str, np.ndarray], keys: tuple[str, ...]) -> dict[tuple[Any, ...], np.ndarray]:
    n = len(cols["bucket"])
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i in range(n):
        groups.setdefault(tuple(cols[k][i] for k in keys), []).append(i)
    return {k: np.asarray(v, dtype=np.int64) for k, v in groups.items()}


def bucket_index(cols: dict[str, np.ndarray], start_ns: int, bucket_ns: int) -> np.ndarray:
    return (cols["bucket"].astype(np.int64) - start_ns) // bucket_ns


def _rate(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def segment_pairs(key: str, value: str) -> tuple[tuple[str, str], ...]:
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
        idx = bucket_index(cols, start_ns, bucket_ns)
        for (mn, mv, sk, sv), rows in group_rows(cols, dims).items():
            for m in measures:
                values = _spread(cols, m, rows, idx, count)
                out.items.append(Series(m, "model", segment_pairs(sk, sv), values, mn, mv or None))
    for bm in cfg.business_metrics:
        conv = conversions_by_bucket(ctx.client, cfg, window, bucket_s, metric=bm.name)
        idx = bucket_index(conv, start_ns, bucket_ns)
        totals: dict[tuple[str, str, str], tuple[np.ndarray, np.ndarray]] = {}
        for (mn, mv, sk, sv), rows in group_rows(conv, dims).items():
            preds = _spread(conv, "predictions", rows, idx, count)
            converted = _spread(conv, "converted", rows, idx, count)
            out.items.append(
                Series(
                    "conversion_rate",
                    "model",
                    segment_pairs(sk, sv),
                    _rate(converted, preds),
                    mn,
                    mv,
                    bm.name,
                )
            )
            p0, c0 = totals.get((mn, sk, sv), (np.zeros(count), np.zeros(count)))
            totals[(mn, sk, sv)] = (p0 + preds, c0 + converted)
        for (mn, sk, sv), (preds, converted) in totals.items():  # all versions together
            out.items.append(
                Series(
                    "conversion_rate",
                    "model",
                    segment_pairs(sk, sv),
                    _rate(converted, preds),
                    mn,
                    None,
                    bm.name,
                )
            )
        cols = store_series.business_series(ctx.client, cfg, window, bucket_s, bm)
        idx = bucket_index(cols, start_ns, bucket_ns)
        for (sk, sv), rows in group_rows(cols, ("segment_key", "segment_value")).items():
            for m, suffix in _BUSINESS_MEASURES.items():
                values = _spread(cols, m, rows, idx, count)
                out.items.append(
                    Series(
                        bm.name + suffix, "business", segment_pairs(sk, sv), values, business_metric=bm.name
                    )
                )
        if not any(s.business_metric == bm.name and s.kind == "business" for s in out.items):
            zeros = np.zeros(count)
            for m, suffix in _BUSINESS_MEASURES.items():
                values = zeros if m in _ZERO_WHEN_ABSENT else np.full(count, np.nan)
                out.items.append(Series(bm.name + suffix, "business", (), values, business_metric=bm.name))
    for i, custom in enumerate(cfg.series.custom):
        cols = store_series.custom_series(ctx.client, cfg, window, bucket_s, custom, i)
        idx = bucket_index(cols, start_ns, bucket_ns)
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


def _alert(ctx: JobContext, alert: rules.Alert, times: list[Any]) -> Alert:
    at = times[alert.index] if 0 <= alert.index < len(times) else ctx.window.end
    return make_alert(
        alert.rule,
        severity=alert.severity,
        state=alert.state,
        at=at,
        message=alert.message,
        attributes=dict(alert.attributes),
    )


def persistence(ctx: JobContext) -> rules.Persistence:
    """The configured persistence/hysteresis policy every alert rule applies."""
    cfg = ctx.config.alerts
    return rules.Persistence(cfg.trigger_after, max(cfg.trigger_within, cfg.trigger_after), cfg.clear_after)


def _phrase(state: str, firing: str, resolved: str) -> str:
    return firing if state == "firing" else resolved


def _counts(built: SeriesSet, name: str, model: str, size: int) -> np.ndarray:
    s = built.find(name, model_name=model)
    return s.values if s is not None else np.full(size, np.nan)


def alert_rules(ctx: JobContext) -> None:
    """Threshold and adaptive alert rules on the series and lift results (appends to ``alerts``).

    Per rule, the p-values of every model × metric × bucket of the run form one
    Benjamini–Hochberg family (``alerts.fdr``); conditions then go through the shared
    persistence policy (:func:`persistence`). Buckets with fewer than ``alerts.min_count``
    events are unknown for the count-based rules.
    """
    cfg = ctx.config.alerts
    out: list[Alert] = ctx.result.setdefault("alerts", [])
    built: SeriesSet | None = ctx.cache.get(CACHE_KEY)
    if not cfg.enabled:
        return
    policy = persistence(ctx)
    if built is not None:
        times: list[Any] = list(built.times())
        season = cfg.season_buckets(built.bucket_s)
        acc_tests: list[tuple[str, np.ndarray, rules.AdaptiveTest]] = []
        adaptive: list[tuple[str, str, np.ndarray, rules.AdaptiveTest]] = []
        for model in built.model_names():
            acc = built.find("accuracy", model_name=model)
            if acc is not None:
                labeled = _counts(built, "labeled", model, acc.values.size)
                known = np.where(labeled >= cfg.min_count, acc.values, np.nan)
                test = rules.adaptive_test(
                    known, halflife=cfg.halflife, window=cfg.baseline_buckets, min_history=cfg.min_history,
                    n=labeled, side="less",
                )  # fmt: skip
                acc_tests.append((model, acc.values, test))
            lat = built.find("latency_p95_ms", model_name=model)
            if lat is not None:
                volume = _counts(built, "volume", model, lat.values.size)
                cond = rules.gate(
                    rules.threshold_condition(lat.values, ">", cfg.latency_p95_ms), volume, cfg.min_count
                )
                limit = rules.num(cfg.latency_p95_ms)

                def lat_text(state: str, value: float, model: str = model, limit: str = limit) -> str:
                    return (
                        model
                        + ": latency p95 "
                        + rules.num(value)
                        + " ms "
                        + _phrase(state, "above " + limit + " ms", "back under " + limit + " ms")
                    )

                for a in rules.alerts_from_condition(
                    "latency_p95", cond, describe=lat_text, values=lat.values,
                    attributes={semconv.ML_MODEL_NAME: model}, severity="critical", policy=policy,
                ):  # fmt: skip
                    out.append(_alert(ctx, a, times))
            if cfg.adaptive:
                for name in cfg.adaptive_metrics:
                    s = built.find(name, model_name=model)
                    if s is None:
                        continue
                    vals = s.values
                    if name != "volume":  # a rate or mean of a thin bucket is unknown
                        vals = np.where(
                            _counts(built, "volume", model, vals.size) >= cfg.min_count, vals, np.nan
                        )
                    test = rules.adaptive_test(
                        vals, halflife=cfg.halflife, window=cfg.baseline_buckets, min_history=cfg.min_history,
                        season=season,
                    )  # fmt: skip
                    adaptive.append((model, name, s.values, test))
        _accuracy_alerts(ctx, acc_tests, times, policy, out)
        _adaptive_alerts(ctx, adaptive, times, policy, out)
    _drift_alerts(ctx, out, policy)
    _business_impact(ctx, out)


def _accuracy_alerts(
    ctx: JobContext,
    tests: list[tuple[str, np.ndarray, rules.AdaptiveTest]],
    times: list[Any],
    policy: rules.Persistence,
    out: list[Alert],
) -> None:
    """accuracy_drop: significantly (BH over models × buckets) and materially below the baseline."""
    cfg = ctx.config.alerts
    sig = rules.fdr_condition([t.pvalue for _, _, t in tests], cfg.fdr)
    for (model, values, test), rejected in zip(tests, sig, strict=True):
        with np.errstate(invalid="ignore"):
            big = (test.baseline - values) > cfg.accuracy_drop
        cond = np.where(np.isnan(rejected), np.nan, (rejected == 1.0) & big)
        limit = rules.num(cfg.accuracy_drop)

        def text(state: str, value: float, model: str = model, limit: str = limit) -> str:
            return (
                model
                + ": accuracy "
                + rules.num(value)
                + _phrase(
                    state,
                    " dropped more than "
                    + limit
                    + " below its baseline (beyond the observed day-to-day spread)",
                    " back within " + limit + " of its baseline",
                )
            )

        for a in rules.alerts_from_condition(
            "accuracy_drop", cond, describe=text, values=values, attributes={semconv.ML_MODEL_NAME: model},
            policy=policy,
        ):  # fmt: skip
            out.append(_alert(ctx, a, times))


def _adaptive_alerts(
    ctx: JobContext,
    tests: list[tuple[str, str, np.ndarray, rules.AdaptiveTest]],
    times: list[Any],
    policy: rules.Persistence,
    out: list[Alert],
) -> None:
    """adaptive_<metric>: BH over models × metrics × buckets, and |z| above the effect floor."""
    cfg = ctx.config.alerts
    sig = rules.fdr_condition([t.pvalue for *_, t in tests], cfg.fdr)
    for (model, name, values, test), rejected in zip(tests, sig, strict=True):
        with np.errstate(invalid="ignore"):
            big = np.abs(test.z) > cfg.z_threshold
        cond = np.where(np.isnan(rejected), np.nan, (rejected == 1.0) & big)

        def text(state: str, value: float, model: str = model, name: str = name) -> str:
            return (
                model
                + ": "
                + name
                + " "
                + rules.num(value, 4)
                + _phrase(state, " left its adaptive baseline", " back within its adaptive baseline")
            )

        for a in rules.alerts_from_condition(
            "adaptive_" + name, cond, describe=text, values=values,
            attributes={semconv.ML_MODEL_NAME: model}, policy=policy,
        ):  # fmt: skip
            out.append(_alert(ctx, a, times))


def _business_impact(ctx: JobContext, out: list[Alert]) -> None:
    """business_impact: the all-users lift is *significantly* below ``alerts.business_impact``.

    The lift's CI (normal approximation from its bounds) gives a one-sided p-value of
    ``lift < threshold``; BH over the metrics. A lift whose estimate is below the threshold but
    whose CI reaches it is reported as a warning of the run, not as an alert.
    """
    cfg = ctx.config.alerts
    rows, pvalues = [], []
    for row in ctx.result.get("lift") or []:
        est, ci = row.get("estimate"), row.get("ci") or [None, None]
        if row.get("segment") or not isinstance(est, float) or not math.isfinite(est):
            continue
        lo, hi = (v if isinstance(v, float) and math.isfinite(v) else math.nan for v in ci[:2])
        level = ctx.config.lift.level
        se = (hi - lo) / (2 * float(stats.norm.isf((1 - level) / 2))) if math.isfinite(hi - lo) else math.nan
        p = float(stats.norm.cdf((est - cfg.business_impact) / se)) if se > 0 else math.nan
        rows.append((row, est, lo, hi))
        pvalues.append(p)
    sig = rules.fdr_condition([np.asarray(pvalues, dtype=float)], cfg.fdr)[0] if rows else np.empty(0)
    limit = rules.num(100 * cfg.business_impact)
    for (row, est, lo, hi), rejected in zip(rows, sig, strict=True):
        metric = str(row.get("metric"))
        lift = rules.num(100 * est) + " % (CI " + rules.num(100 * lo) + " … " + rules.num(100 * hi) + " %)"
        if rejected == 1.0:
            out.append(
                make_alert(
                    "business_impact",
                    severity="warning",
                    state="firing",
                    at=ctx.window.end,
                    message=metric + ": lift " + lift + " significantly below " + limit + " %",
                    attributes={semconv.IMPACT_BUSINESS_METRIC: metric},
                )
            )
        elif est < cfg.business_impact:
            ctx.warn(
                "business_impact: " + metric + " lift " + lift + " is below " + limit
                + " % but not significantly; no alert"
            )  # fmt: skip


def _drift_alerts(ctx: JobContext, out: list[Alert], policy: rules.Persistence) -> None:
    """``drift_score`` alerts from the data-quality rows (PSI per model × bucket), one per episode.

    A bucket with fewer than ``incidents.drift.min_count`` scores is unknown: a PSI from a
    handful of scores is mostly sampling noise.
    """
    cfg = ctx.config.alerts
    min_n = ctx.config.incidents.drift.min_count
    by_model: dict[str, list[tuple[datetime, float, float]]] = {}
    for row in ctx.result.get("data_quality") or []:
        score, n = row["psi"], row["n"]
        if isinstance(score, int | float) and not isinstance(score, bool):
            count = float(n) if isinstance(n, int | float) and not isinstance(n, bool) else math.nan
            at = parse_iso(row["bucket"]) if isinstance(row["bucket"], str) else row["bucket"]
            by_model.setdefault(str(row[semconv.ML_MODEL_NAME]), []).append((at, float(score), count))
    for model, points in by_model.items():
        points.sort()
        values = np.asarray([v for _, v, _ in points])
        counts = np.asarray([c for *_, c in points])
        cond = rules.gate(rules.threshold_condition(values, ">", cfg.drift_score), counts, min_n)
        limit = rules.num(cfg.drift_score)

        def text(state: str, value: float, model: str = model, limit: str = limit) -> str:
            return (
                model
                + ": drift score "
                + rules.num(value)
                + _phrase(state, " above " + limit, " back under " + limit)
            )

        covered = _drift_episodes(out, model)
        skip = False
        for a in rules.alerts_from_condition(
            "drift_score", cond, describe=text, values=values, attributes={semconv.ML_MODEL_NAME: model},
            policy=policy,
        ):  # fmt: skip
            at = points[a.index][0]
            if a.state == "firing":  # the same shift already alerted by the `drift` rule: not twice
                skip = any(lo <= at <= hi for lo, hi in covered)
            if not skip:
                out.append(_alert(ctx, a, [p[0] for p in points]))


def _drift_episodes(alerts: list[Alert], model: str) -> list[tuple[datetime, datetime]]:
    """[firing, resolved] ranges of the incidents stage's ``drift`` alerts of ``model``."""
    spans: list[tuple[datetime, datetime]] = []
    start: datetime | None = None
    rows = [a for a in alerts if a.rule == "drift" and a.attributes.get(semconv.ML_MODEL_NAME) == model]
    for a in sorted(rows, key=lambda a: a.at):
        if a.state == "firing" and start is None:
            start = a.at
        elif a.state == "resolved" and start is not None:
            spans.append((start, a.at))
            start = None
    if start is not None:
        spans.append((start, datetime.max.replace(tzinfo=UTC)))
    return spans


SERIES = Stage("series", run, gives=frozenset({"cache.series", "result.series"}))
ALERT_RULES = Stage(
    "alert_rules",
    alert_rules,
    needs=frozenset({"cache.series", "result.lift", "result.data_quality"}),
    adds=frozenset({"result.alerts"}),
)

__all__ = [
    "ALERT_RULES",
    "CACHE_KEY",
    "SERIES",
    "Series",
    "SeriesSet",
    "alert_rules",
    "build",
    "collect_warnings",
    "persistence",
    "run",
]
