"""Attribution stage: credit stitched outcomes to model versions with every configured model.

Heuristic models (last_touch, first_touch, linear, position_based, time_decay) come from the
stitching stage's ClickHouse credits; the data-driven models (markov, shapley) from channel
paths aggregated in ClickHouse and :mod:`otel_impact.analyze.attribution`. Writes
``result["attribution"]``: rows ``{business_metric, model, ml.model.name, ml.model.version,
segment, value, credit}`` where ``segment`` ``{}`` is all users, and for heuristic models one
row per configured segment key's value (the segment of the credited prediction). Markov and
Shapley rows are all-users only.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from otel_impact import semconv
from otel_impact.analyze.attribution import AttributionResult, markov_attribution, shapley_attribution
from otel_impact.stages.graph import Stage
from otel_impact.stages.stitching import CACHE_KEY
from otel_impact.store.stitch import (
    HEURISTIC_MODELS,
    Credits,
    channel_paths,
    heuristic_credits,
    rollup_segments,
)

if TYPE_CHECKING:
    from otel_impact.config.model import BusinessMetric
    from otel_impact.context import JobContext


def _heuristic_rows(ctx: JobContext, credits: Credits, model: str) -> list[dict[str, Any]]:
    rolled = rollup_segments(
        ctx.config,
        credits.bucket,
        credits.model_name,
        credits.model_version,
        credits.segment_values,
        {"value": credits.value[model], "credit": credits.credit[model]},
    )
    rows = []
    for i in range(len(rolled["bucket"])):
        key = str(rolled["segment_key"][i])
        rows.append(
            {
                "business_metric": credits.business_metric,
                "model": model,
                semconv.ML_MODEL_NAME: str(rolled["model_name"][i]),
                semconv.ML_MODEL_VERSION: str(rolled["model_version"][i]),
                "segment": {key: str(rolled["segment_value"][i])} if key else {},
                "value": float(rolled["value"][i]),
                "credit": float(rolled["credit"][i]),
            }
        )
    return rows


def _path_rows(ctx: JobContext, metric: BusinessMetric, models: Sequence[str]) -> list[dict[str, Any]]:
    paths = channel_paths(ctx.client, ctx.config, ctx.window, metric)
    rows: list[dict[str, Any]] = []
    n = len(paths.channels)
    for model in models:
        if n == 0:
            continue
        result: AttributionResult
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if model == "markov":
                result = markov_attribution(
                    paths.paths, paths.conversions, paths.non_conversions, paths.value, n_channels=n
                )
            else:
                limit = ctx.config.attribution.max_channels_shapley
                if n > limit:
                    ctx.warn(
                        f"attribution: {metric.name!r} has {n} model versions, more than "
                        f"attribution.max_channels_shapley={limit}; Shapley skipped"
                    )
                    continue
                result = shapley_attribution(
                    paths.paths,
                    paths.conversions,
                    paths.value,
                    n_channels=n,
                    non_conversions=paths.non_conversions,
                    max_channels=limit,
                )
        for w in caught:
            ctx.warn(f"attribution: {metric.name!r}: {w.message}")
        for ch, (name, version) in enumerate(paths.channels):
            rows.append(
                {
                    "business_metric": metric.name,
                    "model": model,
                    semconv.ML_MODEL_NAME: name,
                    semconv.ML_MODEL_VERSION: version,
                    "segment": {},
                    "value": float(result.value[ch]),
                    "credit": float(result.credit[ch]),
                    "removal_effect": float(result.removal_effect[ch]),
                }
            )
    return rows


def run(ctx: JobContext) -> None:
    rows: list[dict[str, Any]] = []
    cached: dict[str, Credits] = ctx.cache.get(CACHE_KEY, {})
    configured = list(ctx.config.attribution.models)
    for metric in ctx.config.business_metrics:
        heuristics = [m for m in configured if m in HEURISTIC_MODELS]
        if heuristics:
            credits = cached.get(metric.name) or heuristic_credits(ctx.client, ctx.config, ctx.window, metric)
            for model in heuristics:
                rows.extend(_heuristic_rows(ctx, credits, model))
        data_driven = [m for m in configured if m in ("markov", "shapley")]
        if data_driven:
            rows.extend(_path_rows(ctx, metric, data_driven))
    ctx.result["attribution"] = rows


ATTRIBUTION = Stage(
    "attribution", run, needs=frozenset({"cache.stitch_credits"}), gives=frozenset({"result.attribution"})
)

__all__ = ["ATTRIBUTION", "run"]
