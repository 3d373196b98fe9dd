"""LLM stage: token usage, evaluation scores and cost per business outcome of LLM predictions.

LLM inference spans (GenAI conventions, OpenInference) are predictions in the store's views, so
stitching, attribution, series and lift already treat them like any model. This stage adds what
is particular to them:

* model series per model × version × segment (appended to the cached series, so correlation
  and alerts see them): ``input_tokens``, ``output_tokens``, ``cached_input_tokens``,
  ``llm_cost`` and one ``evaluation.<evaluator>`` per ``gen_ai.evaluation.result`` evaluator
  (mean score of the predictions of that bucket);
* ``result["cost"]``: per business metric, model, version and segment (``{}`` = all users) the
  window's tokens and cost, the outcomes and value the ``llm.attribution_model`` attribution
  credited to that version, and cost per outcome / per unit of value. Cost is the span's own
  ``llm.cost.*`` attribute where present (``llm.cost_source: auto``), else tokens × the
  ``llm.prices`` entry of the model; a model without either has no cost (a warning says so).

:func:`settings` runs first in the job: it records ``llm.version_attributes`` for the
predictions view, so every later stage sees LLM predictions under the configured version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from otel_impact import semconv
from otel_impact.analyze.cost import combine_costs, cost_per_outcome, token_cost
from otel_impact.config.llm import EVALUATION_METRIC_PREFIX
from otel_impact.errors import StoreError
from otel_impact.stages.graph import Stage
from otel_impact.stages.series import (
    CACHE_KEY as SERIES_KEY,
)
from otel_impact.stages.series import (
    Series,
    SeriesSet,
    bucket_index,
    collect_warnings,
    group_rows,
    segment_pairs,
    series_json,
)
from otel_impact.store.llm import evaluation_series, usage_series, write_version_attributes

if TYPE_CHECKING:
    from otel_impact.context import JobContext

CACHE_KEY = "llm_cost"  # {(model name, model version): window cost, all users}
_USAGE = ("input_tokens", "output_tokens", "cached_input_tokens")


def settings(ctx: JobContext) -> None:
    """Record ``llm.version_attributes`` for the predictions view (before any stage reads it).

    A store the job may not write to (a read-only user, a schema not yet re-applied) keeps the
    recorded or default list: the run goes on with a warning."""
    try:
        write_version_attributes(ctx.client, ctx.config.llm.version_attributes)
    except StoreError as exc:
        ctx.warn(f"llm: llm.version_attributes not recorded, the views keep the previous list: {exc}")


def _row_costs(ctx: JobContext, usage: dict[str, np.ndarray]) -> np.ndarray:
    """Cost of each usage row (NaN where neither a price nor a cost attribute is known)."""
    cfg = ctx.config.llm
    n = len(usage["volume"])
    priced = np.full(n, np.nan)
    missing: set[str] = set()
    for model in sorted({str(m) for m in usage["model_name"]}):
        rows = usage["model_name"] == model
        price = cfg.price_of(model)
        if price is None:
            missing.add(model)
            continue
        priced[rows] = token_cost(
            usage["input_tokens"][rows],
            usage["output_tokens"][rows],
            usage["cached_input_tokens"][rows],
            input_price=price.input,
            output_price=price.output,
            cached_input_price=price.cached_input,
            unit=cfg.price_unit_tokens,
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(usage["volume"] > 0, usage["attr_cost_spans"] / usage["volume"], 0.0)
    if cfg.cost_source == "prices":
        cost = priced
    elif cfg.cost_source == "attributes":
        cost = np.where(share > 0, usage["attr_cost"], np.nan)
    else:
        cost = np.where(
            np.isnan(priced),
            np.where(share >= 1.0, usage["attr_cost"], np.nan),
            combine_costs(priced, usage["attr_cost"], share),
        )
    unknown = sorted({str(m) for m in usage["model_name"][np.isnan(cost)]} & missing)
    if unknown:
        ctx.warn(
            "llm: no price in llm.prices and no llm.cost.* attribute for "
            + ", ".join(repr(m) for m in unknown)
            + "; their cost is unknown"
        )
    return cost


def _add_series(
    ctx: JobContext,
    built: SeriesSet,
    cols: dict[str, np.ndarray],
    measures: dict[str, str],
    extra: tuple[str, ...],
) -> list[Series]:
    start_ns = int(built.buckets[0].astype(np.int64)) if built.buckets.size else 0
    bucket_ns = round(built.bucket_s * 1e9)
    count = built.buckets.size
    idx = bucket_index(cols, start_ns, bucket_ns)
    added: list[Series] = []
    keys = ("model_name", "model_version", "segment_key", "segment_value", *extra)
    for key, rows in group_rows(cols, keys).items():
        mn, mv, sk, sv = (str(k) for k in key[:4])
        for column, name in measures.items():
            values = np.full(count, np.nan if column in ("mean_score", "llm_cost") else 0.0)
            ok = rows[(idx[rows] >= 0) & (idx[rows] < count)]
            values[idx[ok]] = cols[column][ok]
            label = name if not extra else name + str(key[4])
            added.append(Series(label, "model", segment_pairs(sk, sv), values, mn, mv or None))
    built.items.extend(added)
    return added


def _cost_rows(ctx: JobContext, usage: dict[str, np.ndarray], cost: np.ndarray) -> list[dict[str, Any]]:
    cfg = ctx.config.llm
    totals: dict[tuple[str, str, str, str], dict[str, float]] = {}
    for i in range(len(cost)):
        key = (
            str(usage["model_name"][i]),
            str(usage["model_version"][i]),
            str(usage["segment_key"][i]),
            str(usage["segment_value"][i]),
        )
        t = totals.setdefault(key, {"cost": 0.0, "volume": 0.0, **dict.fromkeys(_USAGE, 0.0)})
        t["cost"] += float(cost[i])  # NaN stays NaN: an unknown cost is not a zero cost
        t["volume"] += float(usage["volume"][i])
        for name in _USAGE:
            t[name] += float(usage[name][i])
    attributed: dict[tuple[str, str, str, str, str], tuple[float, float]] = {}
    for arow in ctx.result.get("attribution") or []:
        if arow.get("model") != cfg.attribution_model:
            continue
        seg = arow.get("segment") or {}
        sk, sv = next(iter(seg.items())) if seg else ("", "")
        key5 = (
            str(arow.get("business_metric")),
            str(arow.get(semconv.ML_MODEL_NAME)),
            str(arow.get(semconv.ML_MODEL_VERSION)),
            sk,
            sv,
        )
        credit, value = attributed.get(key5, (0.0, 0.0))
        attributed[key5] = (
            credit + float(arow.get("credit") or 0.0),
            value + float(arow.get("value") or 0.0),
        )
    out: list[dict[str, Any]] = []
    cache: dict[tuple[str, str], float] = {}
    for (mn, mv, sk, sv), t in sorted(totals.items()):
        if not sk and mv:
            cache[(mn, mv)] = t["cost"]
        for bm in ctx.config.business_metrics:
            if mv:
                credit, value = attributed.get((bm.name, mn, mv, sk, sv), (0.0, 0.0))
            else:  # all versions: sum of the versions' attributions
                credit = sum(
                    c
                    for (b, m, _v, k, s), (c, _) in attributed.items()
                    if (b, m, k, s) == (bm.name, mn, sk, sv)
                )
                value = sum(
                    v
                    for (b, m, _v, k, s), (_, v) in attributed.items()
                    if (b, m, k, s) == (bm.name, mn, sk, sv)
                )
            row: dict[str, Any] = {
                "business_metric": bm.name,
                semconv.ML_MODEL_NAME: mn,
                semconv.ML_MODEL_VERSION: mv or None,
                "segment": {sk: sv} if sk else {},
                "predictions": t["volume"],
                **{name: t[name] for name in _USAGE},
                "cost": t["cost"],
                "currency": cfg.currency,
                "attribution_model": cfg.attribution_model,
                "outcomes": credit,
                "value": value,
                "cost_per_outcome": float("nan"),
                "cost_per_value": float("nan"),
            }
            if np.isfinite(t["cost"]):
                with collect_warnings(ctx, f"cost {bm.name} {mn} {mv or 'all versions'}"):
                    r = cost_per_outcome(t["cost"], outcomes=credit, value=value)
                row["cost_per_outcome"] = r.per_outcome
                row["cost_per_value"] = r.per_value
                row["method"] = r.method
            out.append(row)
    ctx.cache[CACHE_KEY] = cache
    return out


def run(ctx: JobContext) -> None:
    """LLM usage and evaluation series, and the cost table."""
    ctx.result.setdefault("cost", [])
    built: SeriesSet | None = ctx.cache.get(SERIES_KEY)
    if built is None:
        return
    bucket_s = built.bucket_s
    usage = usage_series(ctx.client, ctx.config, ctx.window, bucket_s)
    added: list[Series] = []
    if len(usage["volume"]):
        cost = _row_costs(ctx, usage)
        usage["llm_cost"] = cost
        added += _add_series(ctx, built, usage, {**{n: n for n in _USAGE}, "llm_cost": "llm_cost"}, ())
        ctx.result["cost"] = _cost_rows(ctx, usage, cost)
    if ctx.config.llm.evaluations:
        evals = evaluation_series(ctx.client, ctx.config, ctx.window, bucket_s)
        if len(evals["mean_score"]):
            added += _add_series(ctx, built, evals, {"mean_score": EVALUATION_METRIC_PREFIX}, ("evaluator",))
    times = built.times()
    ctx.result.setdefault("series", []).extend(series_json(s, times) for s in added)


LLM_SETTINGS = Stage("llm_settings", settings)
LLM = Stage(
    "llm",
    run,
    needs=frozenset({"cache.series", "result.attribution"}),
    gives=frozenset({"cache.llm_cost", "result.cost"}),
    adds=frozenset({"result.series"}),
)

__all__ = ["CACHE_KEY", "LLM", "LLM_SETTINGS", "run", "settings"]
