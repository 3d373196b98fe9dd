"""Correlation stage: model↔business correlation by segment and lag, transfer slopes, breakdowns.

For every model (``ml.model.name``), configured model metric (``series.model_metrics``), business
metric and segment (all users, then each configured segment value) it correlates the model
series (all versions) with the business series selected by ``series.business_measure``:

* ``result["correlations"]`` — per method, the best lag of the scan ``0..correlation.max_lag``
  with its Fisher-z ``ci``, Šidák-corrected ``pvalue`` (``pvalue_unadjusted`` beside it),
  ``n``, ``n_eff`` and the estimate at every lag (``lags``);
* ``result["segment_ranking"]`` — segments ranked by the conservative strength of the Pearson
  relationship (CI bound nearest zero), per model/business metric pair; when the all-users
  relationship broke down in the window, the ranking uses the buckets before the breakdown
  (``period_end``), since afterwards no segment follows the model metric;
* ``result["transfer"]`` — OLS slope with Newey–West CI at the best lag, elasticity, and the
  rolling-window saturation test;
* ``result["alerts"]`` (appended) — ``correlation_breakdown`` firing/resolved transitions saying
  which segment, which lag, and r before/after; ``transfer_saturation`` when the slope weakened.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from otel_impact import semconv
from otel_impact.analyze.alerts import fdr_condition
from otel_impact.analyze.breakdown import Breakdown, condition_of, detect_breakdown
from otel_impact.analyze.correlation import LagScan, lag_scan, rank_segments
from otel_impact.analyze.transfer import fit_transfer, saturation
from otel_impact.records import Alert, make_alert
from otel_impact.stages.graph import Stage
from otel_impact.stages.series import CACHE_KEY, SeriesSet, collect_warnings, persistence, segment_json

if TYPE_CHECKING:
    from otel_impact.context import JobContext

_MEASURE_SUFFIX = {
    "value": "",
    "events": ".events",
    "conversion_rate": ".conversion_rate",
    "value_per_user": ".value_per_user",
}


def _seg_label(segment: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{k}={v}" for k, v in segment) or "all users"


def _ci(ci: Any) -> list[float]:
    return [float(ci.low), float(ci.high)]


def _pairs(
    built: SeriesSet, ctx: JobContext
) -> list[tuple[str, str, str, tuple[tuple[str, str], ...], Any, Any]]:
    """(model, model metric, business metric, segment, x, y) for every available pair."""
    cfg = ctx.config
    suffix = _MEASURE_SUFFIX[cfg.series.business_measure]
    out: list[tuple[str, str, str, tuple[tuple[str, str], ...], Any, Any]] = []
    for model in built.model_names():
        for mm in cfg.series.model_metrics:
            for bm in cfg.business_metrics:
                for seg in built.segments():
                    x = built.find(mm, seg, model_name=model, business_metric=bm.name)
                    y = built.find(bm.name + suffix, seg)
                    if x is not None and y is not None:
                        out.append((model, mm, bm.name, seg, x.values, y.values))
        for custom in cfg.series.custom:
            if custom.kind != "business":
                continue
            for mm in cfg.series.model_metrics:
                x = built.find(mm, (), model_name=model)
                y = built.find(custom.name, ())
                if x is not None and y is not None:
                    out.append((model, mm, custom.name, (), x.values, y.values))
    return out


def run(ctx: JobContext) -> None:
    """Correlations, segment ranking, transfer functions and breakdown alerts."""
    cfg = ctx.config.correlation
    ctx.result.setdefault("correlations", [])
    ctx.result.setdefault("segment_ranking", [])
    ctx.result.setdefault("transfer", [])
    alerts: list[Alert] = ctx.result.setdefault("alerts", [])
    built: SeriesSet | None = ctx.cache.get(CACHE_KEY)
    if built is None or not cfg.enabled:
        return
    bucket_s = built.bucket_s
    times = built.times()
    max_lag = min(cfg.max_lag, max(len(times) - cfg.min_points, 0))
    pearson: dict[tuple[str, str, str], dict[tuple[tuple[str, str], ...], LagScan]] = {}
    stable: dict[tuple[str, str, str], int] = {}
    series_of: dict[tuple[str, str, str, tuple[tuple[str, str], ...]], tuple[np.ndarray, np.ndarray]] = {}
    pending: list[tuple[dict[str, Any], tuple[tuple[str, str], ...], np.ndarray, np.ndarray, int]] = []
    with collect_warnings(ctx, "correlation"):
        pairs = _pairs(built, ctx)
        for model, mm, bm, seg, x, y in pairs:
            base = {
                semconv.ML_MODEL_NAME: model,
                "model_metric": mm,
                "business_metric": bm,
                "segment": segment_json(seg),
            }
            best_pearson: LagScan | None = None
            for method in cfg.methods:
                scan = lag_scan(
                    x,
                    y,
                    max_lag,
                    method,
                    level=cfg.level,
                    neff_method=cfg.effective_n,
                    min_points=cfg.min_points,
                )
                lag = max(scan.best_lag, 0)
                ctx.result["correlations"].append(
                    {
                        **base,
                        "lag_s": lag * bucket_s,
                        "lag_buckets": lag,
                        "method": method,
                        "estimate": scan.best.estimate,
                        "ci": _ci(scan.best.ci),
                        "pvalue": scan.pvalue_adjusted,
                        "pvalue_unadjusted": scan.best.pvalue,
                        "correction": f"sidak over {scan.lags_scanned} lags",
                        "n": scan.best.n,
                        "n_eff": scan.best.n_eff,
                        "effective_n_method": cfg.effective_n,
                        "lags": [
                            {"lag_s": c.lag * bucket_s, "estimate": c.estimate, "pvalue": c.pvalue, "n": c.n}
                            for c in scan.by_lag
                        ],
                    }
                )
                if method == "pearson" or best_pearson is None:
                    best_pearson = scan
            assert best_pearson is not None
            pearson.setdefault((model, mm, bm), {})[seg] = best_pearson
            lag = max(best_pearson.best_lag, 0)
            xs, ys = (x[: len(x) - lag], y[lag:]) if lag else (x, y)
            _transfer(ctx, base, xs, ys, lag, bucket_s, times, alerts, n_tests=len(pairs))
            pending.append((base, seg, x, y, lag))
            series_of[(model, mm, bm, seg)] = (x, y)
        for (base, seg, _lag), first in _breakdowns(ctx, pending, bucket_s, times, alerts):
            if not seg and first is not None:
                # the relationship broke for all users: rank segments on the buckets before
                key = (
                    str(base[semconv.ML_MODEL_NAME]),
                    str(base["model_metric"]),
                    str(base["business_metric"]),
                )
                stable[key] = first - cfg.rolling_window + 1
        for (model, mm, bm), by_seg in pearson.items():
            end = stable.get((model, mm, bm))
            if end is None or end < cfg.min_points + max_lag:
                continue
            for seg in by_seg:
                x, y = series_of[(model, mm, bm, seg)]
                by_seg[seg] = lag_scan(
                    x[:end],
                    y[:end],
                    max_lag,
                    "pearson",
                    level=cfg.level,
                    neff_method=cfg.effective_n,
                    min_points=cfg.min_points,
                )
    for (model, mm, bm), by_seg in pearson.items():
        segs = {s: c for s, c in by_seg.items() if s}
        end = stable.get((model, mm, bm))
        period_end = times[end] if end is not None and cfg.min_points + max_lag <= end < len(times) else None
        for r in rank_segments(segs):
            ranked: tuple[tuple[str, str], ...] = r.segment
            ctx.result["segment_ranking"].append(
                {
                    semconv.ML_MODEL_NAME: model,
                    "model_metric": mm,
                    "business_metric": bm,
                    "segment": segment_json(ranked),
                    "rank": r.rank,
                    "strength": r.strength,
                    "estimate": r.estimate,
                    "pvalue": r.pvalue,
                    "n": r.n,
                    "lag_s": max(by_seg[ranked].best_lag, 0) * bucket_s,
                    "period_end": period_end,
                }
            )


def _transfer(
    ctx: JobContext,
    base: dict[str, Any],
    x: np.ndarray,
    y: np.ndarray,
    lag: int,
    bucket_s: float,
    times: list[Any],
    alerts: list[Alert],
    *,
    n_tests: int = 1,
) -> None:
    """Transfer fit and saturation test; ``saturation_alpha`` is split over the run's ``n_tests``
    pairs (Bonferroni), so the run's chance of any false ``transfer_saturation`` stays at it."""
    cfg = ctx.config.correlation
    fit = fit_transfer(x, y, level=cfg.level)
    row: dict[str, Any] = {
        **base,
        "lag_s": lag * bucket_s,
        "method": fit.method,
        "estimate": fit.estimate,
        "ci": _ci(fit.ci),
        "pvalue": fit.pvalue,
        "n": fit.n,
        "elasticity": fit.elasticity,
        "elasticity_ci": _ci(fit.elasticity_ci),
        "hac_maxlags": fit.maxlags,
    }
    if len(x) >= 2 * cfg.transfer_window and math.isfinite(fit.estimate):
        alpha = cfg.saturation_alpha / max(n_tests, 1)
        sat = saturation(x, y, window=cfg.transfer_window, alpha=alpha, level=cfg.level)
        row |= {
            "slope_baseline": sat.baseline.estimate,
            "slope_recent": sat.recent.estimate,
            "saturation_pvalue": sat.pvalue,
            "saturated": sat.saturated,
            "rolling_slope": [float(v) for v in sat.rolling_slope],
        }
        if sat.saturated:
            alerts.append(
                make_alert(
                    "transfer_saturation",
                    severity="warning",
                    state="firing",
                    at=ctx.window.end,
                    message=f"{base['model_metric']} → {base['business_metric']} "
                    f"({_seg_label(tuple(base['segment'].items()))}): slope weakened from "
                    f"{sat.baseline.estimate:.3g} to {sat.recent.estimate:.3g}",
                    attributes=_attrs(base, lag * bucket_s),
                )
            )
    else:
        row |= {"saturated": False, "saturation_pvalue": None}
    ctx.result["transfer"].append(row)


def _attrs(base: dict[str, Any], lag_s: float) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        semconv.IMPACT_MODEL_METRIC: base["model_metric"],
        semconv.IMPACT_BUSINESS_METRIC: base["business_metric"],
        semconv.ML_MODEL_NAME: base[semconv.ML_MODEL_NAME],
        semconv.IMPACT_LAG_S: lag_s,
    }
    for k, v in base["segment"].items():
        attrs[semconv.IMPACT_SEGMENT_KEY] = k
        attrs[semconv.IMPACT_SEGMENT_VALUE] = v
    return attrs


def _breakdowns(
    ctx: JobContext,
    pending: list[tuple[dict[str, Any], tuple[tuple[str, str], ...], np.ndarray, np.ndarray, int]],
    bucket_s: float,
    times: list[Any],
    alerts: list[Alert],
) -> list[tuple[tuple[dict[str, Any], tuple[tuple[str, str], ...], int], int | None]]:
    """Breakdown alerts of every pair; returns each pair's first firing business bucket (or None).

    ``correlation.alert_alpha`` is the run's error budget: Benjamini–Hochberg at that rate over the
    correlation comparisons of every pair and bucket, and the same budget split evenly over the
    pairs' residual CUSUMs (Bonferroni).
    """
    cfg = ctx.config.correlation
    policy = persistence(ctx)
    done: list[tuple[tuple[dict[str, Any], tuple[tuple[str, str], ...], int], Breakdown]] = []
    for base, seg, x, y, lag in pending:
        if len(x) - lag < cfg.rolling_window + cfg.min_baseline_window:
            continue  # too short a history for a baseline: nothing to compare, no warning per pair
        if not (np.isfinite(x).all() and np.isfinite(y).all()):
            x, y = np.nan_to_num(x, nan=float(np.nanmean(x))), np.nan_to_num(y, nan=float(np.nanmean(y)))
        b = detect_breakdown(
            x, y, lag=lag, window=cfg.rolling_window, baseline=cfg.baseline_window,
            min_baseline=cfg.min_baseline_window, alpha=cfg.alert_alpha, prior_alpha=cfg.prior_alpha,
            monitor_alpha=cfg.alert_alpha / max(len(pending), 1), policy=policy,
        )  # fmt: skip
        done.append(((base, seg, lag), b))
    pvalues = [np.where(b.established, b.pvalue, np.nan) for _, b in done]
    out: list[tuple[tuple[dict[str, Any], tuple[tuple[str, str], ...], int], int | None]] = []
    for ((base, seg, lag), b), sig in zip(done, fdr_condition(pvalues, cfg.alert_alpha), strict=True):
        _, kinds, transitions = condition_of(b, sig, policy)
        out.append(((base, seg, lag), next((t.index for t in transitions if t.state == "firing"), None)))
        for t in transitions:
            i = t.index
            r0, r1 = float(b.r_base[i]), float(b.r_recent[i])
            kind = kinds[i] or "recovered"
            msg = (
                base["model_metric"] + " → " + base["business_metric"] + " (" + _seg_label(seg) + ", lag "
                + format(lag * bucket_s / 3600, "g") + "h): r " + format(r0, ".2f") + " → " + format(r1, ".2f")
                + " (" + kind + ")"
            )  # fmt: skip
            attrs = _attrs(base, lag * bucket_s) | {
                semconv.IMPACT_CORRELATION_R_BEFORE: r0,
                semconv.IMPACT_CORRELATION_R_AFTER: r1,
                semconv.IMPACT_BREAKDOWN_KIND: kind,
            }
            alerts.append(
                make_alert(
                    "correlation_breakdown",
                    severity="warning" if t.state == "firing" else "info",
                    state=t.state,
                    at=times[i],
                    message=msg,
                    attributes=attrs,
                )
            )
    return out


CORRELATION = Stage(
    "correlation",
    run,
    needs=frozenset({"cache.series"}),
    gives=frozenset({"result.correlations", "result.segment_ranking", "result.transfer"}),
    adds=frozenset({"result.alerts"}),
)

__all__ = ["CORRELATION", "run"]
