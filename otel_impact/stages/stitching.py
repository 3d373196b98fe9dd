"""Stitching stage: join each business metric's outcomes to the predictions that preceded them.

Writes ``result["stitching"]`` — one row per business metric with how many outcomes the window
held, how many were attributed to at least one prediction in their join window, and their
value — and caches the per-model credits (``ctx.cache["stitch_credits"][metric]``) for the
attribution stage. The SQL and the rules live in :mod:`otel_impact.store.stitch`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from otel_impact.stages.graph import Stage
from otel_impact.store.stitch import Credits, heuristic_credits

if TYPE_CHECKING:
    from otel_impact.context import JobContext

CACHE_KEY = "stitch_credits"


def stitching_row(credits: Credits, key: str, window_s: float) -> dict[str, Any]:
    """The JSON row of one business metric."""
    attributed = credits.attributed_outcomes
    return {
        "business_metric": credits.business_metric,
        "key": key,
        "window_s": window_s,
        "outcomes": attributed + credits.unattributed_outcomes,
        "attributed_outcomes": attributed,
        "unattributed_outcomes": credits.unattributed_outcomes,
        "value_total": credits.attributed_value + credits.unattributed_value,
        "attributed_value": credits.attributed_value,
        "unattributed_value": credits.unattributed_value,
    }


def run(ctx: JobContext) -> None:
    rows: list[dict[str, Any]] = []
    cache: dict[str, Credits] = ctx.cache.setdefault(CACHE_KEY, {})
    for metric in ctx.config.business_metrics:
        credits = heuristic_credits(ctx.client, ctx.config, ctx.window, metric)
        cache[metric.name] = credits
        row = stitching_row(credits, metric.key, metric.window)
        if row["outcomes"] == 0:
            ctx.warn(f"stitching: business metric {metric.name!r} has no outcomes in the window")
        elif row["attributed_outcomes"] == 0:
            ctx.warn(
                f"stitching: no outcome of {metric.name!r} had a prediction of the same {metric.key} "
                "in its join window"
            )
        rows.append(row)
    ctx.result["stitching"] = rows


STITCHING = Stage("stitching", run, gives=frozenset({"cache.stitch_credits", "result.stitching"}))

__all__ = ["STITCHING", "run"]
