"""Rollout-impact stage: what a rollout did to the business when there was no A/B test.

Rollouts (``rollout_impact``, see :mod:`otel_impact.config.quasi`) come from the config's
``rollouts``, else from the deployment trail of prediction spans — per model, the newest
version's first bucket with at least ``share`` of the traffic, overall and per value of
``segment_key`` — else from ``kpi.rollout`` (all users at once). For each rollout and business
metric, on the ``measure`` series of the series stage (same bucket grid):

* **interrupted time series** (:func:`~otel_impact.analyze.its.interrupted_time_series`) for all
  users and for each treated segment;
* when the rollout reached segments at different times, for each treated segment the
  **synthetic control** and **difference-in-differences** against the segments that stayed
  untreated for at least ``min_post`` buckets after it (the post-period ends when the first of
  them is treated). With ``predictors`` / ``outcome_lags`` the synthetic control matches each
  segment's predictors — other business metrics of the same segment averaged over buckets counted
  from the rollout, and the outcome in chosen buckets — with a data-driven importance V; a donor
  missing a predictor is left out (with a warning), a treated segment missing one falls back to
  matching the outcome.

A rollout of the version that ``lift.treatment`` selects is left to the lift stage (an A/B test
has a control arm) and listed under ``skipped``.

Writes ``result["rollout_impact"]``: ``rollouts`` (what was found, and where) and ``effects`` —
one row per (rollout, metric, segment, method) with ``estimate`` (relative effect), ``ci``,
``pvalue``, ``verdict`` (``effect`` / ``no_effect`` / ``caution`` / ``refused``), the
method's diagnostics and its ``assumptions``. Per (rollout, metric, segment) one row is
``preferred``: the synthetic control when its pre-period fit holds, else DiD when trends were
parallel, else ITS. Runs after the series and deployments stages.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from otel_impact import semconv
from otel_impact.analyze.deployments import newest_version, rollout_index, rollout_phases, traffic_shares
from otel_impact.analyze.its import interrupted_time_series
from otel_impact.analyze.results import warn_degenerate
from otel_impact.analyze.synth import difference_in_differences, synthetic_control
from otel_impact.errors import ConfigError
from otel_impact.stages.deployments import kpi_rollout
from otel_impact.stages.graph import Stage
from otel_impact.stages.series import CACHE_KEY as SERIES_KEY
from otel_impact.stages.series import SeriesSet, collect_warnings
from otel_impact.store.client import dict_rows, query_file

if TYPE_CHECKING:
    from otel_impact.config.quasi import RolloutImpactSection
    from otel_impact.context import JobContext

_SUFFIX = {
    "value": "",
    "events": ".events",
    "conversion_rate": ".conversion_rate",
    "value_per_user": ".value_per_user",
    "active_users": ".active_users",
}
ALL = ""  # the segment value standing for all users


def _ns(ts: datetime) -> int:
    return (ts - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 1000


def _segment_key(ctx: JobContext) -> str | None:
    cfg = ctx.config.rollout_impact
    if cfg.segment_key is None:
        return ctx.config.segments[0] if ctx.config.segments else None
    if cfg.segment_key not in ctx.config.segments:
        raise ConfigError(
            f"segment key {cfg.segment_key!r} is not one of the configured segments",
            path="rollout_impact.segment_key",
        )
    return cfg.segment_key


def trail_rollouts(ctx: JobContext, seg_key: str | None, bucket_s: float) -> list[dict[str, Any]]:
    """Rollouts of each model's newest version from prediction spans, per segment value."""
    cfg = ctx.config.rollout_impact
    start, end = ctx.window.start, ctx.window.end
    params = {
        "start": start,
        "end": end,
        "start_ns": _ns(start),
        "bucket_ns": round(bucket_s * 1e9),
        "models": list(ctx.config.models),
        "seg_key": seg_key or "",
    }
    rows = dict_rows(query_file(ctx.client, "rollout_traffic.sql", params, doing="rollout traffic query"))
    n_buckets = max(1, math.ceil(ctx.window.seconds / bucket_s))
    out = []
    for model in sorted({str(r["model"]) for r in rows}):
        mine = [r for r in rows if r["model"] == model]
        first: dict[str, float] = {}
        for r in mine:
            ts = r["first_ts"].replace(tzinfo=UTC) if r["first_ts"].tzinfo is None else r["first_ts"]
            first[str(r["version"])] = min(first.get(str(r["version"]), math.inf), ts.timestamp())
        versions = sorted(first)
        newest = newest_version([first[v] for v in versions])
        if newest is None:
            continue
        counts: dict[str, np.ndarray] = {}
        for r in mine:
            b = int(r["b"])
            if 0 <= b < n_buckets:
                for seg in {ALL, str(r["seg"])} if seg_key else {ALL}:
                    m = counts.setdefault(seg, np.zeros((n_buckets, len(versions))))
                    m[b, versions.index(str(r["version"]))] += float(r["n"])
        starts: dict[str, int | None] = {}
        for seg, m in counts.items():
            if seg == ALL or seg:
                phases = rollout_phases(traffic_shares(m), m, tolerance=cfg.share, min_buckets=2)
                starts[seg] = rollout_index(phases, newest, tolerance=cfg.share)
        if any(v is not None for v in starts.values()):
            out.append({"name": f"{model} {versions[newest]}", "model": model, "version": versions[newest],
                        "source": "deployment_trail", "starts": starts})  # fmt: skip
    return out


def _configured_rollouts(ctx: JobContext, built: SeriesSet, seg_key: str | None) -> list[dict[str, Any]]:
    cfg = ctx.config.rollout_impact
    out = []

    def index(ts: datetime) -> int:
        return math.floor((ts - ctx.window.start).total_seconds() / built.bucket_s)

    for i, r in enumerate(cfg.rollouts):
        if r.segments and seg_key is None:
            raise ConfigError(
                "per-segment rollouts need a segment key", path=f"rollout_impact.rollouts[{i}].segments"
            )
        starts: dict[str, int | None] = {seg: index(ts) for seg, ts in r.segments.items()}
        starts[ALL] = index(r.at) if r.at is not None else (min(starts.values()) if starts else None)  # type: ignore[type-var]
        out.append({"name": r.name, "model": None, "version": None, "source": "config", "starts": starts})
    return out


def _json(result: Any) -> dict[str, Any]:
    row = asdict(result)
    out: dict[str, Any] = {}
    for k, v in row.items():
        if isinstance(v, dict) and {"low", "high", "level"} <= set(v):
            out[k] = [v["low"], v["high"]]
        elif k in {"gap", "synthetic", "counterfactual"}:
            continue
        else:
            out[k] = v
    return out


def _verdict(row: dict[str, Any]) -> str:
    """``effect`` / ``no_effect`` / ``caution`` (a fake rollout in the pre-period shows an effect
    too) / ``refused`` (no estimate, a poor pre-period fit or too few buckets)."""
    text = str(row.get("verdict", ""))
    if text.startswith("refused"):
        return "refused"
    if text.startswith("effect,"):
        return "caution"
    if text:
        return "effect" if text == "effect" or text.startswith("effect (") else "no_effect"
    lo, hi = row["ci"]
    if not (isinstance(lo, float) and isinstance(hi, float) and math.isfinite(lo) and math.isfinite(hi)):
        return "refused"
    if lo <= 0 <= hi:
        return "no_effect"
    placebo = row.get("placebo_pvalue")
    if isinstance(placebo, float) and math.isfinite(placebo) and placebo < 1 - float(row["level"]):
        return "caution"
    return "effect"


def _analyse(
    cfg: RolloutImpactSection,
    rollout: dict[str, Any],
    metric: str,
    built: SeriesSet,
    seg_key: str | None,
    times: list[datetime],
) -> list[dict[str, Any]]:
    name = metric + _SUFFIX[cfg.measure]
    starts: dict[str, int | None] = rollout["starts"]
    n = built.buckets.size
    rows: list[dict[str, Any]] = []

    def series(seg: str, of: str = metric, measure: str = cfg.measure) -> np.ndarray | None:
        s = built.find(
            of + _SUFFIX[measure], ((seg_key, seg),) if seg and seg_key else (), business_metric=of
        )
        return None if s is None else np.asarray(s.values, dtype=np.float64)

    def predictors(seg: str, at: int) -> list[float]:
        """The segment's predictor values for a rollout at bucket ``at`` (NaN where missing)."""
        out = []
        for p in cfg.predictors:
            s = series(seg, p.metric, p.measure or cfg.measure)
            lo, hi = at + p.buckets[0], at + p.buckets[1] + 1
            part = s[lo:hi] if s is not None and lo >= 0 else np.empty(0)  # none before the window
            out.append(float(np.mean(part)) if part.size and np.all(np.isfinite(part)) else math.nan)
        y = series(seg)
        for lag in cfg.outcome_lags:
            out.append(float(y[at + lag]) if y is not None and at + lag >= 0 else math.nan)
        return out

    def base(seg: str, at: int, method: str) -> dict[str, Any]:
        return {
            "rollout": rollout["name"],
            "model": rollout["model"],
            "version": rollout["version"],
            "metric": metric,
            "measure": cfg.measure,
            "segment": {seg_key: seg} if seg and seg_key else {},
            "rollout_at": times[at],
            "method": method,
            "level": cfg.level,
        }

    season = cfg.season if cfg.season and cfg.season > 1 else None
    for seg, at in sorted(starts.items(), key=lambda kv: kv[0]):
        if at is None or not 0 < at < n:
            continue
        y = series(seg)
        if y is None:
            continue
        group = []
        its = interrupted_time_series(y, at, season=season, level=cfg.level, min_pre=cfg.min_pre)
        group.append(base(seg, at, its.method) | _json(its))
        if seg != ALL:
            donors = [
                d
                for d, s in sorted(starts.items())
                if d not in (ALL, seg) and (s is None or s >= at + cfg.min_post)
            ]
            donors += [
                d for d in _untreated_segments(built, name, seg_key, metric) if d not in starts and d != seg
            ]
            if donors:
                end = min([starts[d] or n for d in donors if d in starts] + [n])
                cols = [series(d) for d in donors]
                keep = [i for i, c in enumerate(cols) if c is not None]
                donors = [donors[i] for i in keep]
                x = np.column_stack([cols[i][:end] for i in keep]) if keep else np.empty((end, 0))  # type: ignore[index]
                pred, sc_donors, sc_x = None, donors, x
                if donors and (cfg.predictors or cfg.outcome_lags):
                    pred, sc_donors, sc_x = _predictor_matrix(predictors, seg, at, donors, x)
                if sc_donors and end - at >= 1:
                    sc = synthetic_control(
                        y[:end], sc_x, at, donor_names=sc_donors, level=cfg.level,
                        max_pre_rmspe=cfg.max_pre_rmspe, min_pre=cfg.min_pre,
                        predictors=pred, predictor_names=_predictor_names(cfg, metric) if pred is not None else None,
                    )  # fmt: skip
                    row = base(seg, at, sc.method) | _json(sc)
                    row["weights"] = dict(zip(sc_donors, sc.weights, strict=False))
                    row.pop("donors", None)
                    names_v = row.pop("predictor_names", ())
                    row["predictor_v"] = dict(zip(names_v, sc.predictor_v, strict=False)) or None
                    row["post_end"] = times[end - 1] if end - 1 < len(times) else None
                    group.append(row)
                if donors and end - at >= 1:  # DiD against every donor, predictors or not
                    did = difference_in_differences(y[:end], x, at, level=cfg.level)
                    group.append(base(seg, at, did.method) | _json(did) | {"donors": donors})
        for row in group:
            row["verdict_kind"] = _verdict(row)
        group[_preferred(group)]["preferred"] = True
        rows.extend(group)
    return rows


def _predictor_names(cfg: RolloutImpactSection, metric: str) -> list[str]:
    out = [
        f"{p.metric}{_SUFFIX[p.measure or cfg.measure]} mean [{p.buckets[0]}, {p.buckets[1]}]"
        for p in cfg.predictors
    ]
    return out + [f"{metric}{_SUFFIX[cfg.measure]} [{lag}]" for lag in cfg.outcome_lags]


def _predictor_matrix(
    predictors: Callable[[str, int], list[float]],
    seg: str,
    at: int,
    donors: list[str],
    x: np.ndarray,
) -> tuple[np.ndarray | None, list[str], np.ndarray]:
    """Predictors × (treated, donors...) for the synthetic control; donors missing a predictor are
    dropped, and a treated segment missing one falls back to outcome matching (``None``)."""
    mine = predictors(seg, at)
    if not all(math.isfinite(v) for v in mine):
        warn_degenerate(
            f"synthetic control for {seg!r}: a predictor is missing before the rollout; matched on the outcome"
        )
        return None, donors, x
    cols = [predictors(d, at) for d in donors]
    keep = [i for i, c in enumerate(cols) if all(math.isfinite(v) for v in c)]
    if len(keep) < len(donors):
        left = [donors[i] for i in range(len(donors)) if i not in keep]
        warn_degenerate(
            f"synthetic control for {seg!r}: donors without every predictor left out: {', '.join(left)}"
        )
    return np.column_stack([mine] + [cols[i] for i in keep]), [donors[i] for i in keep], x[:, keep]


def _untreated_segments(built: SeriesSet, name: str, seg_key: str | None, metric: str) -> list[str]:
    if seg_key is None:
        return []
    return sorted(
        {
            s.segment[0][1]
            for s in built.items
            if s.name == name
            and s.business_metric == metric
            and len(s.segment) == 1
            and s.segment[0][0] == seg_key
        }
    )


def _preferred(group: list[dict[str, Any]]) -> int:
    for i, row in enumerate(group):
        if row["method"] == "synthetic_control" and row["verdict_kind"] != "refused":
            return i
    for i, row in enumerate(group):
        if row["method"] == "did_ar1" and row["verdict_kind"] != "refused":
            return i
    return 0


def run(ctx: JobContext) -> None:
    """Rollout effects per metric and segment (see the module doc)."""
    cfg = ctx.config.rollout_impact
    section: dict[str, Any] = {"rollouts": [], "effects": []}
    ctx.result["rollout_impact"] = section
    built: SeriesSet | None = ctx.cache.get(SERIES_KEY)
    if not cfg.enabled:
        return
    seg_key = _segment_key(ctx)
    if built is None or not ctx.config.business_metrics:
        return
    rollouts = _configured_rollouts(ctx, built, seg_key) if cfg.rollouts else []
    if not rollouts:
        rollouts = trail_rollouts(ctx, seg_key, built.bucket_s)
    configured = kpi_rollout(ctx)
    if not rollouts and configured is not None:
        at = math.floor((configured - ctx.window.start).total_seconds() / built.bucket_s)
        rollouts = [
            {"name": "kpi.rollout", "model": None, "version": None, "source": "kpi", "starts": {ALL: at}}
        ]
    ab = ctx.config.lift.treatment.get(semconv.ML_MODEL_VERSION) if ctx.config.lift.enabled else None
    for r in [r for r in rollouts if ab is not None and r["version"] == ab]:
        # an A/B test of this version is configured: the lift stage measures it with a control arm
        section["skipped"] = [
            *section.get("skipped", []),
            {"name": r["name"], "reason": "A/B test configured (lift)"},
        ]
        rollouts.remove(r)
    names = cfg.metrics or tuple(m.name for m in ctx.config.business_metrics)
    known = {m.name for m in ctx.config.business_metrics}
    times = built.times()
    for r in rollouts:
        section["rollouts"].append(
            {
                "name": r["name"],
                "model": r["model"],
                "version": r["version"],
                "source": r["source"],
                "segment_key": seg_key,
                "starts": {k or "all": _time(times, v) for k, v in r["starts"].items()},
            }
        )
        for metric in names:
            if metric not in known:
                ctx.warn(f"rollout_impact: business metric {metric!r} is not configured")
                continue
            with collect_warnings(ctx, f"rollout impact {r['name']} {metric}"):
                section["effects"].extend(_analyse(cfg, r, metric, built, seg_key, times))


def _time(times: list[datetime], index: int | None) -> datetime | None:
    return times[index] if index is not None and 0 <= index < len(times) else None


ROLLOUT_IMPACT = Stage(
    "rollout_impact",
    run,
    needs=frozenset({"cache.kpi_rollout", "cache.series"}),
    gives=frozenset({"result.rollout_impact"}),
)

__all__ = ["ROLLOUT_IMPACT", "run", "trail_rollouts"]
