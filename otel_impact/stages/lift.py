"""Lift stage: treatment vs control per business metric and segment, ROI, and the KPI table.

Arms come from ``lift.treatment`` / ``lift.control`` (one span attribute → value each, e.g.
``ml.model.version: v2`` vs ``v1`` or a feature-flag attribute). Each key (the metric's join key,
``user.id`` by default) exposed in the window is assigned to the arm of its **first** exposure
(keys that later also saw the other arm stay there and are counted as ``crossover``). Its
outcome is the metric's value from that first exposure to the window end (0 without outcomes);
with ``lift.cuped_pre_period`` its value in that period before the window is the CUPED covariate.

Writes ``result["lift"]`` (overall and per segment value), ``result["roi"]`` (the treatment
arm: incremental value = absolute lift per user × treated users, against ``roi`` costs) and
``result["kpi"]`` (pre/post ``kpi.rollout``: conversion, latency p95, volume, cost per bucket,
plus the lift and ROI). A sample-ratio mismatch raises a ``sample_ratio_mismatch`` alert.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from otel_impact import semconv
from otel_impact.analyze.lift import lift, sample_ratio_mismatch
from otel_impact.analyze.results import ConfidenceInterval
from otel_impact.analyze.roi import kpi_table, roi
from otel_impact.records import Alert, make_alert
from otel_impact.stages.deployments import kpi_rollout
from otel_impact.stages.graph import Stage
from otel_impact.stages.llm import CACHE_KEY as LLM_COST_KEY
from otel_impact.stages.resources import compute_cost
from otel_impact.stages.series import CACHE_KEY, SeriesSet, collect_warnings
from otel_impact.store.series import lift_users

if TYPE_CHECKING:
    from otel_impact.context import JobContext


def _lift_row(res: Any, metric: str, cfg: Any, segment: dict[str, str], crossover: int) -> dict[str, Any]:
    return {
        "metric": metric,
        "treatment": dict(cfg.treatment),
        "control": dict(cfg.control),
        "segment": segment,
        "estimate": res.estimate,
        "ci": [res.ci.low, res.ci.high],
        "pvalue": res.pvalue,
        "method": res.method,
        "ci_method": res.ci_method,
        "n": res.n,
        "n_treatment": res.n_treatment,
        "n_control": res.n_control,
        "mean_treatment": res.mean_treatment,
        "mean_control": res.mean_control,
        "absolute": res.absolute,
        "cuped": res.cuped,
        "variance_reduction": res.variance_reduction,
        "crossover": crossover,
    } | ({"flag": cfg.flag} if cfg.flag is not None else {})


def run(ctx: JobContext) -> None:
    """Lift per metric and segment, ROI of the treatment, KPI table."""
    cfg = ctx.config.lift
    ctx.result.setdefault("lift", [])
    ctx.result.setdefault("roi", [])
    alerts: list[Alert] = ctx.result.setdefault("alerts", [])
    built: SeriesSet | None = ctx.cache.get(CACHE_KEY)
    attribute = cfg.attribute
    if cfg.enabled and attribute is not None:
        treat, ctrl = cfg.treatment[attribute], cfg.control[attribute]
        names = cfg.metrics or tuple(m.name for m in ctx.config.business_metrics)
        rng = np.random.default_rng(ctx.seed)
        for name in names:
            try:
                metric = ctx.config.business_metric(name)
            except KeyError:
                ctx.warn(f"lift: business metric {name!r} is not configured")
                continue
            users = lift_users(
                ctx.client,
                ctx.config,
                ctx.window,
                metric,
                attribute=attribute,
                treatment=treat,
                control=ctrl,
                pre_period_s=cfg.cuped_pre_period,
                flag=cfg.flag,
            )
            is_t, is_c = users["arm"] == treat, users["arm"] == ctrl
            with collect_warnings(ctx, f"lift {name}"):
                srm = sample_ratio_mismatch([int(is_t.sum()), int(is_c.sum())], cfg.expected_split)
                groups: list[tuple[dict[str, str], np.ndarray]] = [({}, np.ones(len(users["arm"]), bool))]
                if cfg.segments:
                    for j, key in enumerate(ctx.config.segments):
                        values = np.asarray(
                            [s[j] if len(s) > j else "" for s in users["segments"]], dtype=object
                        )
                        for v in sorted({str(x) for x in values if x}):
                            groups.append(({key: v}, values == v))
                for segment, mask in groups:
                    pre = cfg.cuped_pre_period is not None
                    res = lift(
                        users["value"][mask & is_t],
                        users["value"][mask & is_c],
                        rng=rng,
                        level=cfg.level,
                        n_boot=cfg.bootstrap,
                        bootstrap_max_n=cfg.bootstrap_max_n,
                        pre_treatment=users["pre_value"][mask & is_t] if pre else None,
                        pre_control=users["pre_value"][mask & is_c] if pre else None,
                    )
                    row = _lift_row(res, name, cfg, segment, int((users["arms"][mask] > 1).sum()))
                    if not segment:
                        row["srm"] = {
                            "pvalue": srm.pvalue,
                            "mismatch": srm.mismatch,
                            "observed": list(srm.observed),
                            "expected": list(srm.expected),
                            "method": srm.method,
                        }
                        _roi(ctx, row, attribute, treat, built, users, is_t)
                    ctx.result["lift"].append(row)
            if srm.mismatch:
                alerts.append(
                    make_alert(
                        "sample_ratio_mismatch",
                        severity="critical",
                        state="firing",
                        at=ctx.window.end,
                        message=f"{name}: arm sizes {list(srm.observed)} do not match the expected split "
                        f"(p = {srm.pvalue:.2g}); the lift is not trustworthy",
                        attributes={semconv.IMPACT_BUSINESS_METRIC: name},
                    )
                )
    _kpi(ctx, built)


def _most_common(values: np.ndarray) -> str:
    names, counts = np.unique(np.asarray([str(v) for v in values], dtype=object), return_counts=True)
    return str(names[int(np.argmax(counts))]) if names.size else ""


def _roi(
    ctx: JobContext,
    row: dict[str, Any],
    attribute: str,
    treat: str,
    built: SeriesSet | None,
    users: dict[str, np.ndarray],
    is_t: np.ndarray,
) -> None:
    """ROI of the treatment arm. Predictions: the treatment version's weighted volume when arms are
    model versions, else the (unweighted) treatment-arm spans of the exposed keys."""
    costs = ctx.config.roi
    model_name = _most_common(users["model_name"][is_t])
    version = _most_common(users["model_version"][is_t])
    predictions = float(users["treated_spans"].sum())
    if attribute == semconv.ML_MODEL_VERSION:
        version = treat
        counts: dict[str, float] = {}
        for s in built.items if built is not None else []:
            if s.name == "volume" and not s.segment and s.model_version == treat and s.model_name:
                counts[s.model_name] = counts.get(s.model_name, 0.0) + float(np.nansum(s.values))
        if counts:
            model_name = max(counts, key=lambda k: counts[k])
            predictions = float(sum(counts.values()))
    # LLM predictions: the treatment version's token cost in the window (stages/llm.py)
    llm_cost = float(ctx.cache.get(LLM_COST_KEY, {}).get((model_name, version), 0.0))
    if not np.isfinite(llm_cost):
        llm_cost = 0.0
    with collect_warnings(ctx, f"roi {row['metric']}"):
        # absolute-lift interval per user ≈ relative-lift interval × control mean
        lo, hi = row["ci"]
        abs_ci = ConfidenceInterval(lo * row["mean_control"], hi * row["mean_control"], ctx.config.lift.level)
        # ROI claims an effect only when the lift does: p below 1 − level and a CI that excludes 0
        p = row["pvalue"]
        significant = bool(p == p and p < 1.0 - ctx.config.lift.level and (lo > 0 or hi < 0))
        r = roi(
            lift_absolute=row["absolute"],
            units=float(row["n_treatment"]),
            predictions=predictions,
            cost_per_1k_predictions=costs.cost_per_1k_predictions,
            fixed_cost_per_month=costs.fixed_cost_per_month,
            compute_cost=compute_cost(ctx) + llm_cost,
            period_s=ctx.window.seconds,
            lift_ci=abs_ci,
            lift_significant=significant,
        )
    ctx.result["roi"].append(
        {
            semconv.ML_MODEL_NAME: model_name,
            semconv.ML_MODEL_VERSION: version,
            "treatment": {attribute: treat},
            "metric": row["metric"],
            "incremental_value": r.incremental_value,
            "incremental_value_ci": [r.incremental_value_ci.low, r.incremental_value_ci.high],
            "cost": r.cost,
            "llm_cost": llm_cost,
            "net_benefit": r.net_benefit,
            "roi_pct": r.roi_pct,
            "predictions": r.predictions,
            "units": r.units,
            "method": r.method,
            "claimed": r.claimed,
            "note": None
            if r.claimed
            else f"lift not significant (p = {p:.2g}, CI [{lo:+.1%}, {hi:+.1%}]): no ROI claimed",
        }
    )


def _kpi(ctx: JobContext, built: SeriesSet | None) -> None:
    rollout = kpi_rollout(ctx)
    if rollout is None or built is None:
        ctx.result.setdefault("kpi", {})
        return
    ts = np.asarray([t.timestamp() for t in built.times()])
    kpis: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for bm in ctx.config.business_metrics:
        s = built.find(bm.name + ".conversion_rate", ())
        if s is not None:
            kpis[f"{bm.name}.conversion_rate"] = (ts, s.values)
    for model in built.model_names():
        for name in ("latency_p95_ms", "volume", "mean_score", "accuracy"):
            s = built.find(name, (), model_name=model)
            if s is not None:
                kpis[f"{model}.{name}"] = (ts, s.values)
                if name == "volume":
                    kpis[f"{model}.cost"] = (ts, s.values / 1000.0 * ctx.config.roi.cost_per_1k_predictions)
    with collect_warnings(ctx, "kpi"):
        rows: list[dict[str, Any]] = [
            {
                "metric": r.name,
                "pre": r.pre,
                "post": r.post,
                "change": r.change,
                "change_pct": r.change_pct,
                "pvalue": r.pvalue,
                "n_pre": r.n_pre,
                "n_post": r.n_post,
            }
            for r in kpi_table(kpis, rollout.timestamp())
        ]
    for row in ctx.result.get("lift") or []:
        if not row["segment"]:
            rows.append(
                {
                    "metric": f"{row['metric']}.lift",
                    "pre": None,
                    "post": row["estimate"],
                    "ci": row["ci"],
                    "pvalue": row["pvalue"],
                }
            )
    for row in ctx.result.get("roi") or []:
        rows.append({"metric": f"{row['metric']}.roi_pct", "pre": None, "post": row["roi_pct"]})
    ctx.result["kpi"] = {"rollout": rollout, "rows": rows}


LIFT = Stage(
    "lift",
    run,
    needs=frozenset({"cache.compute_cost", "cache.kpi_rollout", "cache.llm_cost", "cache.series"}),
    gives=frozenset({"result.kpi", "result.lift", "result.roi"}),
    adds=frozenset({"result.alerts"}),
)

__all__ = ["LIFT", "run"]
