"""Stitched outcomes and conversions per time bucket × model version × segment, for the series stage.

Built on the stitching SQL of :mod:`otel_impact.store.stitch` (same join rules); results are
dicts of numpy columns with one row per (bucket, model version, segment key/value), where the
segment key/value ``'' / ''`` row is all users.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from otel_impact.config.model import ImpactConfig
from otel_impact.store.client import StoreClient
from otel_impact.store.stitch import (
    HEURISTIC_MODELS,
    NS,
    cell_names,
    grouped_sql,
    heuristic_credits,
    metric_index,
    stitch_query,
    stitch_sql,
    validate_sql_source,
)

if TYPE_CHECKING:
    from otel_impact.context import Window


def rollup_segments(
    config: ImpactConfig,
    bucket: np.ndarray,
    model_name: np.ndarray,
    model_version: np.ndarray,
    segment_values: list[tuple[str, ...]],
    measures: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """Roll per-(segment values) rows up to one row per single segment key (plus '' = all)."""
    acc: dict[tuple[int, str, str, str, str], np.ndarray] = {}
    names = list(measures)
    stacked = np.column_stack([measures[n] for n in names]) if len(bucket) else np.zeros((0, len(names)))
    for i in range(len(bucket)):
        keys = [("", "")] + [(k, segment_values[i][j]) for j, k in enumerate(config.segments)]
        for seg_key, seg_value in keys:
            slot = (int(bucket[i]), str(model_name[i]), str(model_version[i]), seg_key, seg_value)
            if slot in acc:
                acc[slot] = acc[slot] + stacked[i]
            else:
                acc[slot] = stacked[i].copy()
    slots = sorted(acc)
    out: dict[str, np.ndarray] = {
        "bucket": np.asarray([s[0] for s in slots], dtype="datetime64[ns]"),
        "model_name": np.asarray([s[1] for s in slots], dtype=object),
        "model_version": np.asarray([s[2] for s in slots], dtype=object),
        "segment_key": np.asarray([s[3] for s in slots], dtype=object),
        "segment_value": np.asarray([s[4] for s in slots], dtype=object),
    }
    for j, name in enumerate(names):
        out[name] = np.asarray([acc[s][j] for s in slots], dtype=np.float64)
    return out


def stitched_by_bucket(
    client: StoreClient,
    config: ImpactConfig,
    window: Window,
    bucket_s: float,
    *,
    model: str = "last_touch",
    metric: str | None = None,
) -> dict[str, np.ndarray]:
    """Attributed outcomes and value per (outcome-time bucket × model version × segment).

    Returns numpy columns ``bucket`` (datetime64[ns], bucket start aligned to ``window.start``),
    ``model_name``, ``model_version``, ``segment_key`` / ``segment_value`` ('' / '' = all users;
    then one row per configured segment key's value), ``business_metric``, ``outcomes``
    (credited outcomes, fractional for split models) and ``value``. ``metric`` restricts to one
    business metric (default: all configured).
    """
    if model not in HEURISTIC_MODELS:
        raise ValueError(f"model must be one of {', '.join(HEURISTIC_MODELS)}, got {model!r}")
    parts: list[dict[str, np.ndarray]] = []
    for bm in config.business_metrics:
        if metric is not None and bm.name != metric:
            continue
        cr = heuristic_credits(client, config, window, bm, bucket_s=bucket_s)
        rows = rollup_segments(
            config,
            cr.bucket,
            cr.model_name,
            cr.model_version,
            cr.segment_values,
            {"outcomes": cr.credit[model], "value": cr.value[model]},
        )
        rows["business_metric"] = np.full(len(rows["bucket"]), bm.name, dtype=object)
        parts.append(rows)
    return _concat(parts, ("outcomes", "value"))


def conversions_by_bucket(
    client: StoreClient,
    config: ImpactConfig,
    window: Window,
    bucket_s: float,
    *,
    metric: str | None = None,
) -> dict[str, np.ndarray]:
    """Per (prediction-time bucket × model version × segment): weighted predictions and how many
    of them converted — an outcome of the same key followed within the metric's join window.

    Columns: ``bucket``, ``model_name``, ``model_version``, ``segment_key``, ``segment_value``,
    ``business_metric``, ``predictions`` (Σ adjusted_count), ``converted`` (Σ adjusted_count of
    converted predictions). ``converted / predictions`` is the conversion rate from stitched
    outcomes; predictions less than one window before ``window.end`` are right-censored.
    """
    if bucket_s <= 0:
        raise ValueError(f"bucket_s must be positive, got {bucket_s!r}")
    parts: list[dict[str, np.ndarray]] = []
    for bm in config.business_metrics:
        if metric is not None and bm.name != metric:
            continue
        validate_sql_source(client, bm, metric_index(config, bm))
        text, params = grouped_sql(config, bm, window, stitch_sql("conversions"))
        params["bucket_ns"] = round(bucket_s * NS)
        what = f"conversions of business metric {bm.name!r}"
        res = stitch_query(client, text, params, what)
        rows = res.result_rows
        cells = cell_names(client, params, what, (r[1] for r in rows))
        names = [cells[int(r[1])] for r in rows]
        rolled = rollup_segments(
            config,
            np.asarray([r[0] for r in rows], dtype=np.int64),
            np.asarray([n[0] for n in names], dtype=object),
            np.asarray([n[1] for n in names], dtype=object),
            [n[2] for n in names],
            {
                "predictions": np.asarray([r[2] for r in rows], dtype=np.float64),
                "converted": np.asarray([r[3] for r in rows], dtype=np.float64),
            },
        )
        rolled["business_metric"] = np.full(len(rolled["bucket"]), bm.name, dtype=object)
        parts.append(rolled)
    return _concat(parts, ("predictions", "converted"))


def _concat(parts: list[dict[str, np.ndarray]], measures: tuple[str, ...]) -> dict[str, np.ndarray]:
    keys = (
        "bucket",
        "model_name",
        "model_version",
        "segment_key",
        "segment_value",
        "business_metric",
        *measures,
    )
    if not parts:
        empty: dict[str, np.ndarray] = {k: np.asarray([], dtype=object) for k in keys}
        empty["bucket"] = np.asarray([], dtype="datetime64[ns]")
        for m in measures:
            empty[m] = np.asarray([], dtype=np.float64)
        return empty
    return {k: np.concatenate([p[k] for p in parts]) for k in keys}


__all__ = ["conversions_by_bucket", "rollup_segments", "stitched_by_bucket"]
