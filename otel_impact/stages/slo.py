"""SLO stage: error budgets and burn-rate alerts of model endpoints and pipelines.

For each configured SLO the stage reads per-``slos.step`` good/total counts from the store —
prediction spans (``impact_predictions``: latency within ``threshold_ms`` or no error, weighted
by adjusted counts) or ``pipeline.run`` events (successful runs; or, for freshness, steps
whose last successful run is at most ``max_age`` old) — from the longest burn window before the
analysed window to its end, and evaluates it with :func:`otel_impact.analyze.slo.evaluate_slo`.

Writes ``result["slos"]`` (one row per SLO: ``estimate`` = SLI, ``objective``,
``error_ratio``, ``budget_consumed`` / ``budget_remaining`` of the ``slos.period`` budget,
``n``, ``windows`` with the current burn rates, ``alerts``) and appends each burn-rate alert
transition to ``result["alerts"]`` (rule ``slo_burn_rate``).
"""

from __future__ import annotations

import math
import warnings
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from otel_impact import semconv
from otel_impact.analyze.slo import SloEpisode, SloResult, evaluate_slo, freshness_steps
from otel_impact.config.base import format_duration
from otel_impact.records import make_alert
from otel_impact.stages.graph import Stage
from otel_impact.stages.series import persistence
from otel_impact.store.client import StoreClient, query_file, rows

if TYPE_CHECKING:
    from otel_impact.config.contract import ModelSlo, PipelineSlo
    from otel_impact.context import JobContext


def _rows(client: StoreClient, name: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    return rows(query_file(client, name, params, doing="SLO query"))


def _ns(ts: datetime) -> int:
    return int(ts.timestamp()) * 1_000_000_000 + ts.microsecond * 1000


class _Grid:
    """The step grid: ``lead`` steps before the window (for the trailing windows), then the window."""

    def __init__(self, ctx: JobContext) -> None:
        cfg = ctx.config.slos
        self.step = cfg.step
        longest = max((w.long for w in cfg.burn_windows), default=0.0)
        self.lead = math.ceil(longest / self.step)
        self.start = ctx.window.start - timedelta(seconds=self.lead * self.step)
        self.n = self.lead + math.ceil(ctx.window.seconds / self.step)
        self.end = ctx.window.end

    def time(self, index: int) -> datetime:
        """End of step ``index`` counted from the window start (alerts are stamped there)."""
        return self.start + timedelta(seconds=(self.lead + index + 1) * self.step)


def _first_index(total: np.ndarray) -> int:
    """The first step with any event (the array's length when there is none)."""
    nz = np.flatnonzero(total > 0)
    return int(nz[0]) if nz.size else int(total.size)


def _model_counts(ctx: JobContext, grid: _Grid, slo: ModelSlo) -> tuple[np.ndarray, np.ndarray, int]:
    params = {
        "start": grid.start,
        "end": grid.end,
        "start_ns": _ns(grid.start),
        "step_ns": int(grid.step * 1e9),
        "model": slo.model,
        "sli": slo.sli,
        "threshold_ns": int((slo.threshold_ms or 0.0) * 1e6),
    }
    good, total = np.zeros(grid.n), np.zeros(grid.n)
    for s, t, g in _rows(ctx.client, "slo_model.sql", params):
        if 0 <= int(s) < grid.n:
            total[int(s)], good[int(s)] = float(t), min(float(g), float(t))
    ((before,),) = _rows(ctx.client, "slo_model_history.sql", {"model": slo.model, "start": grid.start})
    return good, total, 0 if int(before) else _first_index(total)


def _pipeline_counts(ctx: JobContext, grid: _Grid, slo: PipelineSlo) -> tuple[np.ndarray, np.ndarray, int]:
    """Good/total per step and the first known step: steps before the pipeline's first run in
    history are unknown (not stale); freshness carries the last success from before the grid."""
    params = {
        "start": grid.start,
        "end": grid.end,
        "event": semconv.EVENT_PIPELINE_RUN,
        "pipeline": slo.pipeline,
        "statuses": list(slo.success_statuses),
        "k_status": semconv.PIPELINE_STATUS,
        "k_pipeline": semconv.PIPELINE_NAME,
    }
    rows = _rows(ctx.client, "slo_pipeline.sql", params)
    ((n_before, _first_ns, n_ok, last_ok_ns),) = _rows(ctx.client, "slo_pipeline_history.sql", params)
    t_s = np.asarray([int(r[0]) for r in rows], dtype=np.float64) / 1e9
    ok = np.asarray([bool(r[1]) for r in rows], dtype=bool)
    t0 = grid.start.timestamp()
    idx = np.floor((t_s - t0) / grid.step).astype(np.int64)
    keep = (idx >= 0) & (idx < grid.n)
    total = np.bincount(idx[keep], minlength=grid.n).astype(np.float64)
    first = 0 if int(n_before) else _first_index(total)
    if slo.sli == "freshness":
        ends = t0 + (np.arange(grid.n) + 1) * grid.step
        success = t_s[ok]
        if int(n_ok):
            success = np.r_[int(last_ok_ns) / 1e9, success]
        fresh = freshness_steps(success, ends, float(slo.max_age or 0.0))
        return fresh, np.ones(grid.n), first
    good = np.bincount(idx[keep], weights=ok[keep].astype(np.float64), minlength=grid.n).astype(np.float64)
    return good, total, first


def _row(ctx: JobContext, grid: _Grid, slo: Any, kind: str, res: SloResult) -> dict[str, Any]:
    def label(s: float) -> str:
        return format_duration(s)

    return {
        "name": slo.name,
        "kind": kind,
        "sli": slo.sli,
        semconv.ML_MODEL_NAME if kind == "model" else semconv.PIPELINE_NAME: slo.model
        if kind == "model"
        else slo.pipeline,
        "threshold_ms": getattr(slo, "threshold_ms", None),
        "max_age_s": getattr(slo, "max_age", None),
        "objective": res.objective,
        "estimate": res.estimate,
        "error_ratio": res.error_ratio,
        "error_budget": 1.0 - res.objective,
        "budget_consumed": res.budget_consumed,
        "budget_remaining": res.budget_remaining,
        "period_s": ctx.config.slos.period,
        "n": res.n,
        "method": res.method,
        "windows": [
            {
                "window": f"{label(w.long_s)}/{label(w.short_s)}",
                "long_s": w.long_s,
                "short_s": w.short_s,
                "factor": w.factor,
                "severity": w.severity,
                "burn_long": w.burn_long,
                "burn_short": w.burn_short,
                "max_burn_long": w.max_burn_long,
                "firing": w.firing,
            }
            for w in res.windows
        ],
        "alerts": [
            {
                "at": grid.time(a.index),
                "state": a.state,
                "severity": a.severity,
                "window": f"{label(a.long_s)}/{label(a.short_s)}",
                "factor": a.factor,
                "burn_long": a.burn_long,
                "burn_short": a.burn_short,
            }
            for a in res.alerts
        ],
    }


def run(ctx: JobContext) -> None:
    """Evaluate every configured SLO over the window."""
    cfg = ctx.config.slos
    if not (cfg.models or cfg.pipelines):
        return
    grid = _Grid(ctx)
    windows = [(w.long, w.short, w.factor, w.severity) for w in cfg.burn_windows]
    rows: list[dict[str, Any]] = []
    episodes: list[tuple[SloEpisode, ...]] = []
    todo: list[tuple[str, Any]] = [("model", s) for s in cfg.models] + [
        ("pipeline", s) for s in cfg.pipelines
    ]
    policy = persistence(ctx)
    for kind, slo in todo:
        good, total, first = (
            _model_counts(ctx, grid, slo) if kind == "model" else _pipeline_counts(ctx, grid, slo)
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = evaluate_slo(
                good, total, step=grid.step, objective=slo.objective, windows=windows, eval_start=grid.lead,
                period=cfg.period, first_known=first, persistence=(policy.trigger, policy.within, policy.clear),
            )  # fmt: skip
        if first > grid.lead:
            ctx.warn(
                "slo " + slo.name + ": no data before " + grid.time(first - grid.lead - 1).isoformat().replace("+00:00", "Z")
                + "; earlier steps are unknown, and each burn window is judged once it is covered"
            )  # fmt: skip
        for w in caught:
            ctx.warn(f"slo {slo.name}: {w.message}")
        rows.append(_row(ctx, grid, slo, kind, res))
        episodes.append(res.episodes)
    ctx.result["slos"] = rows
    alerts = ctx.result.setdefault("alerts", [])
    for row, eps in zip(rows, episodes, strict=True):
        target = str(row.get(semconv.ML_MODEL_NAME) or row.get(semconv.PIPELINE_NAME))
        for e in eps:  # one alert per SLO episode, naming its most severe burning window pair
            window = format_duration(e.long_s) + "/" + format_duration(e.short_s)
            head = "SLO " + str(row["name"]) + " (" + target + "): "
            alerts.append(
                make_alert("slo_burn_rate", severity=e.severity, state=e.state, at=grid.time(e.index), message=head + "error budget burning " + format(e.burn_short, ".1f") + "× over " + window
                    + " (alert at " + format(e.factor, "g") + "×)"
                    if e.state == "firing"
                    else head + "burn rates back under their alert factors", attributes={semconv.IMPACT_SLO_NAME: row["name"], semconv.IMPACT_SLO_WINDOW: window})
            )  # fmt: skip


SLOS = Stage("slos", run, gives=frozenset({"result.slos"}), adds=frozenset({"result.alerts"}))

__all__ = ["SLOS", "run"]
