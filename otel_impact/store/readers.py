"""Read the typed tables (``impact_predictions_typed`` / ``impact_events_typed``) into numpy columns: predictions, business/outcome/pipeline events.

Every reader returns ``{column: np.ndarray}`` with the columns of :data:`PREDICTION_COLUMNS`
or :data:`EVENT_COLUMNS`, rows in time order, for the half-open window ``[start, end)``.
``start``/``end`` are timezone-aware ``datetime`` objects (naive ones are taken as UTC),
``numpy.datetime64`` values, or integer nanoseconds since the epoch.

Types: ``ts`` is ``datetime64[ns]`` (UTC; read as integer nanoseconds, so no timezone
conversion happens anywhere), numbers are ``float64``/``uint64``/``uint8``, strings are object
arrays of ``str``, ``segments``/``attributes`` object arrays of ``dict``. Results come from
``client.query`` columns (clickhouse-connect's numpy path returns a strided structured array
and converts DateTime64 through the session timezone; columns are simpler and exact).

>>> from otel_impact.store import apply_schema, connect
>>> client = connect("chdb://memory")
>>> _ = apply_schema(client, database="doc_readers")
>>> client.database = "doc_readers"
>>> read_predictions(client, 0, 10**18)["score"].dtype
dtype('float64')
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np

from otel_impact import semconv
from otel_impact.errors import StoreError
from otel_impact.store.client import StoreClient
from otel_impact.store.failures import store_error
from otel_impact.store.sqltext import load_sql

PREDICTION_COLUMNS: tuple[str, ...] = (
    "ts",
    "trace_id",
    "span_id",
    "service_name",
    "model_name",
    "model_version",
    "prediction_id",
    "score",
    "label",
    "user_id",
    "session_id",
    "request_id",
    "segments",
    "features_hash",
    "adjusted_count",
    "duration_ns",
    "is_error",
    "span_kind",
)
EVENT_COLUMNS: tuple[str, ...] = (
    "ts",
    "event_name",
    "service_name",
    "trace_id",
    "span_id",
    "user_id",
    "session_id",
    "request_id",
    "prediction_id",
    "value",
    "currency",
    "label",
    "attributes",
)
_DTYPES: dict[str, Any] = {
    "ts": np.int64,
    "score": np.float64,
    "adjusted_count": np.float64,
    "duration_ns": np.uint64,
    "is_error": np.uint8,
    "value": np.float64,
}
_KIND_ALIASES = {
    f"SPAN_KIND_{name.upper()}": name
    for name in ("Unspecified", "Internal", "Server", "Client", "Producer", "Consumer")
}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def to_nanos(value: Any, name: str = "time") -> int:
    """``value`` (aware/naive-UTC datetime, numpy datetime64 or int ns) as epoch nanoseconds.

    >>> to_nanos(dt.datetime(1970, 1, 1, 0, 0, 1, tzinfo=dt.UTC))
    1000000000
    """
    if isinstance(value, bool):
        raise ValueError(f"{name}: expected a datetime or integer nanoseconds, got {value!r}")
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, np.datetime64):
        return int(value.astype("datetime64[ns]").astype(np.int64))
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        delta = aware - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000
    raise ValueError(f"{name}: expected a datetime or integer nanoseconds, got {type(value).__name__}")


def _window(start: Any, end: Any) -> tuple[int, int]:
    start_ns, end_ns = to_nanos(start, "start"), to_nanos(end, "end")
    if end_ns < start_ns:
        raise ValueError(f"end: must not be before start ({end!r} < {start!r})")
    return start_ns, end_ns


def normalize_span_kind(kind: str) -> str:
    """pdata span-kind name for either spelling (``SPAN_KIND_SERVER`` or ``Server``)."""
    return _KIND_ALIASES.get(kind.upper(), kind[:1].upper() + kind[1:].lower()) if kind else ""


def read_predictions(
    client: StoreClient, start: Any, end: Any, *, model: str | None = None, span_kind: str | None = None
) -> dict[str, np.ndarray]:
    """Prediction spans in ``[start, end)`` from ``impact_predictions_typed`` (optionally one model).

    ``span_kind`` accepts both spellings (``Server`` / ``SPAN_KIND_SERVER``).
    """
    start_ns, end_ns = _window(start, end)
    params = {
        "start_ns": start_ns,
        "end_ns": end_ns,
        "model": model or "",
        "span_kind": normalize_span_kind(span_kind or ""),
    }
    return _read(client, "read_predictions.sql", params, PREDICTION_COLUMNS, semconv.TABLE_PREDICTIONS_TYPED)


def read_events(
    client: StoreClient,
    start: Any,
    end: Any,
    *,
    names: Sequence[str] | None = None,
    prefix: str | None = None,
) -> dict[str, np.ndarray]:
    """Events in ``[start, end)`` from ``impact_events_typed``: exact ``names``, a name ``prefix``, or all.

    Business events: ``read_events(client, start, end, prefix=semconv.BUSINESS_EVENT_PREFIX)``.
    """
    if isinstance(names, str):
        raise ValueError("names: expected a sequence of event names, not one string")
    start_ns, end_ns = _window(start, end)
    params = {"start_ns": start_ns, "end_ns": end_ns, "names": list(names or ()), "prefix": prefix or ""}
    return _read(client, "read_events.sql", params, EVENT_COLUMNS, semconv.TABLE_EVENTS_TYPED)


def read_business_events(client: StoreClient, start: Any, end: Any) -> dict[str, np.ndarray]:
    """All ``business.*`` events in ``[start, end)``."""
    return read_events(client, start, end, prefix=semconv.BUSINESS_EVENT_PREFIX)


def read_outcomes(client: StoreClient, start: Any, end: Any) -> dict[str, np.ndarray]:
    """Ground-truth ``ml.outcome`` events in ``[start, end)`` (``label`` / ``value`` columns)."""
    return read_events(client, start, end, names=[semconv.EVENT_ML_OUTCOME])


def read_pipeline_events(client: StoreClient, start: Any, end: Any) -> dict[str, np.ndarray]:
    """``pipeline.run`` and ``pipeline.incident`` events in ``[start, end)``."""
    return read_events(
        client, start, end, names=[semconv.EVENT_PIPELINE_RUN, semconv.EVENT_PIPELINE_INCIDENT]
    )


def _read(
    client: StoreClient, sql_name: str, params: dict[str, Any], columns: tuple[str, ...], view: str
) -> dict[str, np.ndarray]:
    try:
        result = client.query(load_sql(sql_name), parameters=params)
    except Exception as exc:
        raise store_error(exc, f"cannot read {view}", table=view) from exc
    names = tuple(result.column_names)
    if names and names != columns:  # an empty chDB result may carry no column names
        raise StoreError(f"{view} returned columns {names}, expected {columns}")
    data = result.result_columns if result.row_count else [[] for _ in columns]
    out: dict[str, np.ndarray] = {}
    for name, values in zip(columns, data, strict=True):
        dtype = _DTYPES.get(name)
        if dtype is None:
            array = np.empty(len(values), dtype=object)
            array[:] = values
        else:
            array = np.asarray(values, dtype=dtype)
        out[name] = array
    out["ts"] = out["ts"].astype("datetime64[ns]")
    return out
