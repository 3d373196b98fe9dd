"""Per-bucket series and per-user lift outcomes, aggregated inside ClickHouse.

Every function runs one ``sql/series_*.sql`` query with server-side parameters and returns
columns as numpy arrays (a "long" table): ``bucket`` (datetime64[ns] bucket start, aligned to the
window start), ``model_name`` / ``model_version`` ('' = all versions) where they apply,
``segment_key`` / ``segment_value`` ('' / '' = all users, then one row per configured segment
key's value), then the measures. The stage turns them into series; numpy/scipy only ever see
these small aggregates.

* :func:`model_series` — volume (Σ adjusted_count), mean score, error rate, latency p50/p95 (ms);
* :func:`quality_series` — CTR (positive outcomes per labelled prediction), accuracy, precision,
  recall, AUC, calibration error from ``ml.outcome``;
* :func:`business_series` — value, events, active keys, conversion rate, value per user;
* :func:`custom_series` — a configured query's timestamp/value columns per bucket;
* :func:`lift_users` — one row per user: arm of first exposure, outcome value, pre-period value.

The click/conversion rate of predictions comes from the stitching engineer's
:func:`otel_impact.store.stitch.conversions_by_bucket`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from otel_impact import semconv
from otel_impact.config.model import BusinessMetric, ImpactConfig
from otel_impact.config.sqlsource import READ_ONLY_SETTINGS, source_sql
from otel_impact.config.stats import CustomMetric
from otel_impact.errors import ConfigError
from otel_impact.store.client import StoreClient, query_text, rows, sql_text
from otel_impact.store.stitch import (
    PREDICTION_KEY_COLUMNS,
    outcomes_sql,
    validate_identity,
    validate_sql_source,
)

if TYPE_CHECKING:
    from otel_impact.context import Window

_NS = 1_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DIMS = ("bucket", "model_name", "model_version", "segment_key", "segment_value")


def to_ns(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(microseconds=1) * 1000


def _sql(name: str) -> str:
    return sql_text(f"series_{name}.sql", strip_comments=True)


def series_query(
    client: StoreClient, sql: str, params: dict[str, Any], what: str
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Column names and rows of composed series SQL (business series splice the configured SQL
    sources in: read-only)."""
    res = query_text(client, sql, params, doing=what, settings=READ_ONLY_SETTINGS)
    return list(res.column_names), rows(res)


def base_params(config: ImpactConfig, window: Window, bucket_s: float) -> dict[str, Any]:
    if not bucket_s > 0:
        raise ValueError(f"bucket_s must be positive, got {bucket_s!r}")
    return {
        "start_ns": to_ns(window.start),
        "end_ns": to_ns(window.end),
        "bucket_ns": round(bucket_s * _NS),
        "seg_keys": list(config.segments),
        "models": list(config.models),
    }


def columns_by_name(names: list[str], rows: list[tuple[Any, ...]]) -> dict[str, list[Any]]:
    """Columns by name; an empty result (which may come without column names) reads as empty lists."""
    out: dict[str, list[Any]] = defaultdict(list)
    for i, n in enumerate(names):
        out[n] = [r[i] for r in rows]
    return out


def floats(values: Sequence[Any]) -> np.ndarray:
    return np.asarray([np.nan if v is None else float(v) for v in values], dtype=np.float64)


def dims(col: dict[str, list[Any]], versions: bool) -> dict[str, np.ndarray]:
    out = {
        "bucket": np.asarray(col["bucket_ns"], dtype=np.int64).astype("datetime64[ns]"),
        "segment_key": np.asarray(col["segment_key"], dtype=object),
        "segment_value": np.asarray(col["segment_value"], dtype=object),
    }
    if versions:
        out["model_name"] = np.asarray(col["model_name"], dtype=object)
        out["model_version"] = np.asarray(col["model_version"], dtype=object)
    return out


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def model_series(
    client: StoreClient, config: ImpactConfig, window: Window, bucket_s: float
) -> dict[str, np.ndarray]:
    """Volume, mean score, error rate and latency p50/p95 (ms) per bucket × model × version × segment."""
    names, rows = series_query(client, _sql("model"), base_params(config, window, bucket_s), "model series")
    col = columns_by_name(names, rows)
    out = dims(col, versions=True)
    out["volume"] = floats(col["volume"])
    out["mean_score"] = floats(col["mean_score"])
    out["error_rate"] = floats(col["error_rate"])
    lat = [q if q else [np.nan, np.nan] for q in col["latency_ns"]]
    out["latency_p50_ms"] = floats([q[0] for q in lat]) / 1e6
    out["latency_p95_ms"] = floats([q[1] for q in lat]) / 1e6
    return out


def quality_series(
    client: StoreClient, config: ImpactConfig, window: Window, bucket_s: float
) -> dict[str, np.ndarray]:
    """CTR, accuracy, precision, recall, AUC and calibration error from ``ml.outcome`` labels."""
    params = base_params(config, window, bucket_s)
    params |= {
        "threshold": config.series.score_threshold,
        "outcome_event": semconv.EVENT_ML_OUTCOME,
        "evaluation_event": semconv.EVENT_GEN_AI_EVALUATION_RESULT,
        "ground_truth": config.llm.ground_truth_evaluation or "",
    }
    names, rows = series_query(client, _sql("quality"), params, "model quality series")
    col = columns_by_name(names, rows)
    out = dims(col, versions=True)
    labeled, tp, fp, fn = (floats(col[k]) for k in ("labeled", "tp", "fp", "fn"))
    out["labeled"] = labeled
    out["ctr"] = _ratio(tp + fn, labeled)  # positive outcomes (clicks) per labelled prediction
    out["accuracy"] = _ratio(floats(col["correct"]), labeled)
    out["precision"] = _ratio(tp, tp + fp)
    out["recall"] = _ratio(tp, tp + fn)
    out["auc"] = floats(col["auc"])
    out["calibration_error"] = floats(col["calibration_error"])
    return out


def business_series(
    client: StoreClient, config: ImpactConfig, window: Window, bucket_s: float, metric: BusinessMetric
) -> dict[str, np.ndarray]:
    """One business metric per bucket × segment: value, events, conversion rate, value per user."""
    index = next(i for i, m in enumerate(config.business_metrics) if m.name == metric.name)
    validate_sql_source(client, metric, index)
    validate_identity(client, config)
    outcomes, params = outcomes_sql(config, metric)
    params |= base_params(config, window, bucket_s)
    params["pkey"] = PREDICTION_KEY_COLUMNS[metric.key]
    sql = _sql("business").replace("/*OUTCOMES*/", outcomes)
    names, rows = series_query(client, sql, params, f"business series of {metric.name!r}")
    col = columns_by_name(names, rows)
    out = dims(col, versions=False)
    active = floats(col["active_keys"])
    out["value"] = floats(col["value"])
    out["events"] = floats(col["events"])
    out["active_keys"] = active
    out["conversion_rate"] = _ratio(floats(col["converted_keys"]), active)
    out["value_per_user"] = _ratio(out["value"], active)
    return out


def custom_series(
    client: StoreClient,
    config: ImpactConfig,
    window: Window,
    bucket_s: float,
    metric: CustomMetric,
    index: int,
) -> dict[str, np.ndarray]:
    """A custom SQL metric per bucket (all users only)."""
    path = f"series.custom[{index}].sql"
    body = source_sql(metric.sql, path)
    params = base_params(config, window, bucket_s)
    params |= {"ts_col": metric.ts, "value_col": metric.value, "agg": metric.agg}
    sql = _sql("custom").replace("/*CUSTOM_SQL*/", body)
    try:
        res = client.query(sql, parameters=params, settings=READ_ONLY_SETTINGS)
    except Exception as exc:
        raise ConfigError(f"custom metric {metric.name!r} does not run: {exc}", path=path) from exc
    rows = list(res.result_rows)
    n = len(rows)
    return {
        "bucket": np.asarray([r[0] for r in rows], dtype=np.int64).astype("datetime64[ns]"),
        "segment_key": np.full(n, "", dtype=object),
        "segment_value": np.full(n, "", dtype=object),
        "value": floats([r[1] for r in rows]),
    }


def lift_users(
    client: StoreClient,
    config: ImpactConfig,
    window: Window,
    metric: BusinessMetric,
    *,
    attribute: str,
    treatment: str,
    control: str,
    pre_period_s: float | None = None,
    flag: str | None = None,
) -> dict[str, np.ndarray]:
    """One row per exposed key (with ``flag``: per key with an evaluation of that feature flag,
    arms being its variants, ``attribute`` unused): ``arm`` ('treatment'/'control' value), ``arms`` (distinct arms
    seen), ``segments`` (tuple of configured segment values), ``model_name`` / ``model_version``
    of the first exposure, ``treated_spans`` (unweighted), ``value`` and ``pre_value``.

    With ``attribute`` = ``ml.model.version`` the arms are the typed table's ``model_version``
    (on LLM spans: the version ``llm.version_attributes`` selects); any other attribute is read
    from the ``impact_predictions`` view's attribute map."""
    index = next(i for i, m in enumerate(config.business_metrics) if m.name == metric.name)
    validate_sql_source(client, metric, index)
    validate_identity(client, config)
    outcomes, params = outcomes_sql(config, metric)
    # the pre-period instance of the same outcomes query reads [pre_start, start)
    pre = outcomes.replace("{start_ns:Int64}", "{pre_start_ns:Int64}").replace(
        "{end_ns:Int64}", "{start_ns:Int64}"
    )
    start_ns = to_ns(window.start)
    params |= {
        "start_ns": start_ns,
        "end_ns": to_ns(window.end),
        "pre_start_ns": start_ns - round((pre_period_s or 0.0) * _NS),
        "seg_keys": list(config.segments),
        "seg_prefix": semconv.ML_SEGMENT_PREFIX,
        "models": list(config.models),
        "model_attr": semconv.ML_MODEL_NAME,
        "version_attr": semconv.ML_MODEL_VERSION,
        "key_attr": metric.key,
        "pkey": PREDICTION_KEY_COLUMNS[metric.key],
        "arm_attr": attribute,
        "treatment": treatment,
        "control": control,
    }
    if flag is not None:
        params["flag"] = flag
    # arms that are model versions: the typed column, not the view's attribute map (same rows for
    # our spans, and far cheaper to read); any other attribute needs the map
    typed = attribute == semconv.ML_MODEL_VERSION
    sql = (
        _sql("lift_flag_users" if flag is not None else "lift_users")
        .replace("/*SOURCE*/", "impact_predictions_typed" if typed else "impact_predictions")
        .replace("/*ARM*/", "model_version" if typed else "attributes[{arm_attr:String}]")
        .replace("/*OUTCOMES*/", outcomes)
        .replace("/*PRE_OUTCOMES*/", pre)
    )
    names, rows = series_query(client, sql, params, f"per-user outcomes of {metric.name!r}")
    col = columns_by_name(names, rows)
    return {
        "key": np.asarray(col["k"], dtype=object),
        "arm": np.asarray(col["arm"], dtype=object),
        "arms": np.asarray(col["arms"], dtype=np.int64),
        "segments": np.asarray([tuple(s) for s in col["segs"]] + [()], dtype=object)[:-1],
        "model_name": np.asarray(col["model"], dtype=object),
        "model_version": np.asarray(col["version"], dtype=object),
        "treated_spans": np.asarray(col["treated_spans"], dtype=np.float64),
        "value": floats(col["value"]),
        "pre_value": floats(col["pre_value"]),
    }


__all__ = ["business_series", "custom_series", "lift_users", "model_series", "quality_series"]
