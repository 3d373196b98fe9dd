"""Stitching and heuristic attribution inside ClickHouse.

Business outcomes (``business.<metric>`` log events, or rows of a user's SQL source) are joined to
the predictions of the same key (``user.id``, ``session.id``, ``ml.request.id`` or
``ml.prediction.id``) whose timestamp lies in ``[outcome ts - window, outcome ts]``. The work
runs as one grouped-array query per metric (``sql/stitch_*.sql``): every key's predictions are
collected into an array sorted by ``(ts, cityHash64(prediction_id))`` together with the key's
outcomes, and
each outcome is attributed within that array with array functions. Only aggregated rows (per
model version × segment values, optionally per time bucket) come back to Python.

Rules (see "Attribution and stitching rules" in docs/statistics.md):

* the join window is closed: a prediction exactly ``window`` before the outcome, or at the same
  instant, is eligible; a prediction after the outcome (clock skew, late spans) never is;
* equal prediction timestamps are ordered by ``cityHash64(prediction_id)`` (a deterministic
  64-bit hash; "last" is the greatest hash);
* outcomes without a key, without an eligible prediction, or whose only predictions fall
  outside the window are *unattributed*;
* predictions carry their sampling weight ``adjusted_count``: linear credit, the middle share of
  position-based and time-decay weights are proportional to it; last/first touch and the first
  and last shares of position-based go to the single prediction in that position;
* ``value: count`` metrics are worth 1 per outcome; ``sum`` metrics use the event's value
  (``business.value``; absent/NaN counts as 0).

>>> PREDICTION_KEY_COLUMNS["user.id"]
'user_id'
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from otel_impact import semconv
from otel_impact.config.model import BusinessMetric, ImpactConfig
from otel_impact.config.sqlsource import READ_ONLY_SETTINGS, source_sql
from otel_impact.errors import ConfigError
from otel_impact.store.client import QueryResult, StoreClient, query_text, sql_text

if TYPE_CHECKING:
    from otel_impact.context import Window

HEURISTIC_MODELS: tuple[str, ...] = ("last_touch", "first_touch", "linear", "position_based", "time_decay")

# join key -> column of impact_predictions_typed / impact_events_typed holding it
PREDICTION_KEY_COLUMNS: dict[str, str] = {
    semconv.USER_ID: "user_id",
    semconv.SESSION_ID: "session_id",
    semconv.ML_REQUEST_ID: "request_id",
    semconv.ML_PREDICTION_ID: "prediction_id",
}

NS = 1_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@functools.cache
def stitch_sql(name: str) -> str:
    """Text of ``sql/stitch_<name>.sql`` without its comment lines (fragments get nested)."""
    return sql_text(f"stitch_{name}.sql", strip_comments=True)


def _ns(value: datetime) -> int:
    """Nanoseconds since the epoch of an aware datetime."""
    return (value - _EPOCH) // timedelta(microseconds=1) * 1000


def stitch_query(client: StoreClient, sql: str, params: dict[str, Any], what: str) -> QueryResult:
    """Run composed stitching SQL; the text may hold a configured SQL source, so read-only."""
    return query_text(client, sql, params, doing=what, settings=READ_ONLY_SETTINGS)


def result_columns(client: StoreClient, sql: str, path: str) -> list[str]:
    """Names of the columns ``sql`` returns, via ``DESCRIBE (subquery)``; errors name ``path``."""
    try:
        described = client.query(f"DESCRIBE ({sql})", settings=READ_ONLY_SETTINGS)
    except Exception as exc:
        raise ConfigError(f"SQL source does not run: {exc}", path=path) from exc
    return [str(row[0]) for row in described.result_rows]


def validate_sql_source(client: StoreClient, metric: BusinessMetric, index: int) -> None:
    """Check that a SQL source returns the columns its ``columns`` mapping names."""
    source = metric.source
    if source.sql is None:
        return
    base = f"business_metrics[{index}].source"
    have = set(result_columns(client, source_sql(source.sql, f"{base}.sql"), f"{base}.sql"))
    cols = source.sql_columns
    wanted = {"ts": cols.ts, "key": cols.key}
    if cols.value is not None:
        wanted["value"] = cols.value
    for field, column in wanted.items():
        if column not in have:
            raise ConfigError(
                f"column {column!r} is not in the SQL source's result (columns: {', '.join(sorted(have))})",
                path=f"{base}.columns.{field}",
            )


def validate_identity(client: StoreClient, config: ImpactConfig) -> None:
    """Check that the identity SQL returns the ``other_id`` / ``user_id`` columns it maps."""
    if config.identity is None:
        return
    have = set(result_columns(client, source_sql(config.identity.sql, "identity.sql"), "identity.sql"))
    for field in ("other_id", "user_id"):
        column = getattr(config.identity.columns, field)
        if column not in have:
            raise ConfigError(
                f"column {column!r} is not in the identity SQL's result (columns: {', '.join(sorted(have))})",
                path=f"identity.columns.{field}",
            )


def metric_index(config: ImpactConfig, metric: BusinessMetric) -> int:
    for i, m in enumerate(config.business_metrics):
        if m.name == metric.name:
            return i
    return 0


def outcomes_sql(config: ImpactConfig, metric: BusinessMetric) -> tuple[str, dict[str, Any]]:
    """SQL text (t, k, v) of the metric's outcomes in [start, end) and its parameters."""
    index = metric_index(config, metric)
    source = metric.source
    params: dict[str, Any] = {"count_only": 1 if metric.value == "count" else 0}
    if source.event is not None:
        text = stitch_sql("outcomes_event")
        params |= {"okey": PREDICTION_KEY_COLUMNS[metric.key], "event": source.event}
    else:
        assert source.sql is not None
        cols = source.sql_columns
        user_sql = source_sql(source.sql, f"business_metrics[{index}].source.sql")
        text = stitch_sql("outcomes_sql" if cols.value is not None else "outcomes_sql_novalue")
        text = text.replace("/*SOURCE_SQL*/", user_sql)
        params |= {"ts_col": cols.ts, "key_col": cols.key}
        if cols.value is not None:
            params["value_col"] = cols.value
    if config.identity is not None and metric.key == semconv.USER_ID:
        ident = config.identity
        wrapper = stitch_sql("identity").replace("/*IDENTITY_SQL*/", source_sql(ident.sql, "identity.sql"))
        text = wrapper.replace("/*OUTCOMES*/", text)
        params |= {
            "other_col": ident.columns.other_id,
            "user_col": ident.columns.user_id,
        }
    return text, params


def grouped_sql(
    config: ImpactConfig,
    metric: BusinessMetric,
    window: Window,
    outer: str,
    *,
    segments: tuple[str, ...] | None = None,
    reachable_only: bool = False,
) -> tuple[str, dict[str, Any]]:
    """Wrap ``outer`` (a stitch_*.sql using /*GROUPED*/) around the per-key grouped arrays.

    ``segments`` overrides the configured segment keys that make up a prediction's cell (``()``
    makes a cell one model version — a channel). ``reachable_only`` drops, before grouping,
    predictions that no outcome can reach (enough for attribution, not for paths/conversions).
    """
    outcomes, params = outcomes_sql(config, metric)
    window_ns = round(metric.window * NS)
    start_ns, end_ns = _ns(window.start), _ns(window.end)
    prefilter = stitch_sql("prefilter") if reachable_only else ""
    grouped = stitch_sql("grouped").replace("/*PREFILTER*/", prefilter).replace("/*OUTCOMES*/", outcomes)
    seg_keys = list(config.segments if segments is None else segments)
    grouped = grouped.replace("/*CELL*/", _cell_expr(len(seg_keys)))
    params |= {f"seg_{i}": key for i, key in enumerate(seg_keys)}
    params |= {
        "pkey": PREDICTION_KEY_COLUMNS[metric.key],
        "pstart_ns": start_ns - window_ns,
        "start_ns": start_ns,
        "end_ns": end_ns,
        "window_ns": window_ns,
        "seg_keys": seg_keys,
        "models": list(config.models),
    }
    return outer.replace("/*GROUPED*/", grouped), params


def _cell_expr(n_segments: int) -> str:
    """SQL of a prediction's cell hash (model name, version, ``n_segments`` segment values).

    Built from fixed fragments; the segment keys are the parameters ``seg_0`` ... ``seg_<n-1>``.
    ``cityHash64`` of a single LowCardinality column runs once per dictionary value, and one map
    lookup per key is cheaper than ``arrayMap`` over the keys, so the cell hashes per-part hashes.
    """
    parts = ["cityHash64(model_name)", "cityHash64(model_version)"]
    parts += [f"cityHash64(segments[{{seg_{i}:String}}])" for i in range(n_segments)]
    return f"cityHash64({', '.join(parts)})"


def cell_names(
    client: StoreClient, params: dict[str, Any], what: str, wanted: Iterable[Any]
) -> dict[int, tuple[str, str, tuple[str, ...]]]:
    """Cell hash -> (model name, model version, segment values) for the ``wanted`` cells
    (cell hashes from a result of :func:`grouped_sql`'s SQL, with the same ``params``)."""
    cells = sorted({int(c) for c in wanted})
    if not cells:
        return {}
    text = stitch_sql("cells").replace("/*CELL*/", _cell_expr(len(params["seg_keys"])))
    names: dict[int, tuple[str, str, tuple[str, ...]]] = {}
    # LIMIT n_cells stops the scan early; should two names ever share a 64-bit cell hash, some
    # cell could be cut off, so a second pass without the early stop covers it
    for limit in (len(cells), 2**63 - 1):
        res = stitch_query(client, text, params | {"cells": cells, "n_cells": limit}, what)
        names = {int(r[0]): (str(r[1]), str(r[2]), tuple(str(x) for x in r[3])) for r in res.result_rows}
        if len(names) == len(cells):
            break
    return names


@dataclass(frozen=True)
class Credits:
    """Attributed credit per (bucket, model version, segment values) for one business metric.

    ``credit[model]`` is the number of outcomes credited (fractions sum to 1 per attributed
    outcome); ``value[model]`` the outcome value credited. Unattributed outcomes are counted
    apart. ``segment_values[i][j]`` is the value of ``config.segments[j]`` on the credited
    predictions ('' when the prediction lacks that segment).
    """

    business_metric: str
    bucket: np.ndarray  # int64 ns since epoch, bucket start (outcome ts)
    model_name: np.ndarray  # object (str)
    model_version: np.ndarray  # object (str)
    segment_values: list[tuple[str, ...]]
    credit: dict[str, np.ndarray]
    value: dict[str, np.ndarray]
    unattributed_outcomes: int
    unattributed_value: float

    @property
    def attributed_outcomes(self) -> int:
        return round(float(self.credit["last_touch"].sum()))

    @property
    def attributed_value(self) -> float:
        return float(self.value["last_touch"].sum())


def heuristic_credits(
    client: StoreClient,
    config: ImpactConfig,
    window: Window,
    metric: BusinessMetric,
    *,
    bucket_s: float | None = None,
) -> Credits:
    """Stitch ``metric``'s outcomes in ``window`` and credit them with every heuristic model.

    ``bucket_s`` splits the result by the outcome's time bucket (aligned to ``window.start``);
    ``None`` gives one bucket for the whole window.
    """
    if bucket_s is not None and bucket_s <= 0:
        raise ValueError(f"bucket_s must be positive, got {bucket_s!r}")
    index = metric_index(config, metric)
    validate_sql_source(client, metric, index)
    validate_identity(client, config)
    text, params = grouped_sql(config, metric, window, stitch_sql("credit"), reachable_only=True)
    pos = config.attribution.position_based
    span_ns = _ns(window.end) - _ns(window.start)
    params |= {
        "half_life_ns": config.attribution.time_decay.half_life * NS,
        "pos_first": pos.first,
        "pos_last": pos.last,
        "bucket_ns": round(bucket_s * NS) if bucket_s is not None else span_ns,
    }
    res = stitch_query(client, text, params, f"stitching business metric {metric.name!r}")
    names = list(res.column_names)
    rows = res.result_rows
    col: dict[str, list[Any]] = defaultdict(list)
    for i, name in enumerate(names):
        col[name] = [r[i] for r in rows]
    # rows with n = 0 (cell 0 and zero credit) hold the unattributed outcomes
    unattributed_outcomes = int(sum(col["unattributed_outcomes"]))
    unattributed_value = float(sum(col["unattributed_value"]))
    attributed = [i for i, n in enumerate(col["unattributed_outcomes"]) if n == 0]
    what = f"stitching business metric {metric.name!r}"
    cells = cell_names(client, params, what, (col["cell"][i] for i in attributed))
    named = [cells[int(col["cell"][i])] for i in attributed]
    pick = np.asarray(attributed, dtype=np.int64)

    def arr(name: str, dtype: Any) -> np.ndarray:
        return np.asarray(col[name], dtype=dtype)[pick] if attributed else np.asarray([], dtype=dtype)

    return Credits(
        business_metric=metric.name,
        bucket=arr("bucket_ns", np.int64),
        model_name=np.asarray([n[0] for n in named], dtype=object),
        model_version=np.asarray([n[1] for n in named], dtype=object),
        segment_values=[n[2] for n in named],
        credit={m: arr(f"credit_{m}", np.float64) for m in HEURISTIC_MODELS},
        value={m: arr(f"value_{m}", np.float64) for m in HEURISTIC_MODELS},
        unattributed_outcomes=unattributed_outcomes,
        unattributed_value=unattributed_value,
    )


@dataclass(frozen=True)
class ChannelPaths:
    """Distinct channel paths with their conversion counts, values and non-conversions.

    A channel is a ``(model_name, model_version)`` pair; paths hold channel indices into
    ``channels``.
    """

    channels: tuple[tuple[str, str], ...]
    paths: tuple[tuple[int, ...], ...]
    conversions: np.ndarray
    value: np.ndarray
    non_conversions: np.ndarray


def channel_paths(
    client: StoreClient, config: ImpactConfig, window: Window, metric: BusinessMetric
) -> ChannelPaths:
    """Aggregate converting and non-converting channel paths of ``metric`` in ClickHouse."""
    validate_sql_source(client, metric, metric_index(config, metric))
    validate_identity(client, config)
    text, params = grouped_sql(config, metric, window, stitch_sql("paths"), segments=())
    what = f"channel paths of business metric {metric.name!r}"
    res = stitch_query(client, text, params, what)
    cells = cell_names(client, params, what, (c for r in res.result_rows for c in r[0]))
    named = [([cells[int(c)][:2] for c in r[0]], r[1], r[2], r[3]) for r in res.result_rows]
    index: dict[tuple[str, str], int] = {}
    paths: list[tuple[int, ...]] = []
    conv, val, nonconv = [], [], []
    for path, c, v, n in sorted(named, key=lambda r: r[0]):
        paths.append(tuple(index.setdefault((ch[0], ch[1]), len(index)) for ch in path))
        conv.append(c)
        val.append(v)
        nonconv.append(n)
    return ChannelPaths(
        channels=tuple(index),
        paths=tuple(paths),
        conversions=np.asarray(conv, dtype=np.float64),
        value=np.asarray(val, dtype=np.float64),
        non_conversions=np.asarray(nonconv, dtype=np.float64),
    )


_BUCKET_FUNCTIONS = ("conversions_by_bucket", "rollup_segments", "stitched_by_bucket")

if TYPE_CHECKING:
    from otel_impact.store.stitch_buckets import conversions_by_bucket as conversions_by_bucket
    from otel_impact.store.stitch_buckets import rollup_segments as rollup_segments
    from otel_impact.store.stitch_buckets import stitched_by_bucket as stitched_by_bucket


def __getattr__(name: str) -> Any:
    """Per-bucket aggregates live in :mod:`otel_impact.store.stitch_buckets` (keeps this module
    small); they are re-exported here lazily, so either module can be imported first."""
    if name in _BUCKET_FUNCTIONS:
        from otel_impact.store import stitch_buckets

        return getattr(stitch_buckets, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "HEURISTIC_MODELS",
    "PREDICTION_KEY_COLUMNS",
    "ChannelPaths",
    "Credits",
    "channel_paths",
    "heuristic_credits",
    "result_columns",
    "validate_identity",
    "validate_sql_source",
]
