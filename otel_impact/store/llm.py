"""LLM predictions in the store: usage and evaluation series, the version-attribute setting.

LLM inference spans are rows of ``impact_predictions_typed`` (``source`` ``gen_ai`` or
``openinference``), evaluation results rows of ``impact_events_typed``
(``gen_ai.evaluation.result``). These functions aggregate them inside ClickHouse per bucket ×
model × version × segment (the layout of :mod:`otel_impact.store.series`) and return numpy
columns; prices are applied by :mod:`otel_impact.analyze.cost`.

* :func:`write_version_attributes` — the ``llm.version_attributes`` setting the predictions view
  and the typed table's materialized view read (which attribute names an LLM prediction's
  version); a change re-derives the typed LLM rows;
* :func:`usage_series` — volume, input / output / cached-input tokens, span cost attributes;
* :func:`evaluation_series` — mean evaluation score per evaluator.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np

from otel_impact import semconv
from otel_impact.config.model import ImpactConfig
from otel_impact.errors import StoreError
from otel_impact.store.client import StoreClient, query_text, sql_text
from otel_impact.store.series import base_params, columns_by_name, dims, floats, series_query, to_ns

if TYPE_CHECKING:
    from otel_impact.context import Window

_log = logging.getLogger(__name__)


def _sql(name: str) -> str:
    return sql_text(f"{name}.sql", strip_comments=True)


def write_version_attributes(client: StoreClient, attributes: tuple[str, ...]) -> None:
    """Record which span attributes name an LLM prediction's version (first non-empty wins).

    The predictions view reads the latest row of ``impact_settings`` on every read; the typed
    table's materialized view reads it when a span is inserted. So when the effective list
    changes (an empty list means the default), the typed table's LLM rows are re-derived from
    ``otel_traces`` (:func:`otel_impact.store.backfill.backfill`, only the days holding LLM rows)
    and both give the same versions again. Writing the same list again changes nothing.
    """
    current = read_version_attributes(client)
    if current == attributes:
        return
    now = datetime.now(UTC).replace(tzinfo=None)
    try:
        client.insert(
            semconv.TABLE_SETTINGS,
            [[semconv.SETTING_LLM_VERSION_ATTRIBUTES, list(attributes), now]],
            column_names=["name", "value", "updated_at"],
        )
    except Exception as exc:
        raise StoreError(f"cannot record llm.version_attributes: {exc}") from exc
    if _effective(current) != _effective(attributes):
        from otel_impact.store.backfill import backfill

        results = backfill(client, tables=("predictions",), llm_only=True)
        if results and results[0].days:
            _log.info("llm.version_attributes changed: re-derived %s", results[0].summary())


def _effective(attributes: tuple[str, ...] | None) -> tuple[str, ...]:
    return tuple(attributes) if attributes else tuple(semconv.DEFAULT_LLM_VERSION_ATTRIBUTES)


def read_version_attributes(client: StoreClient) -> tuple[str, ...] | None:
    """The recorded ``llm.version_attributes`` list, or ``None`` when none was recorded."""
    res = query_text(
        client,
        "SELECT argMax(value, updated_at), count() FROM {t:Identifier} WHERE name = {n:String}",
        {"t": semconv.TABLE_SETTINGS, "n": semconv.SETTING_LLM_VERSION_ATTRIBUTES},
        doing="reading llm.version_attributes",
    )
    value, count = res.result_rows[0]
    return tuple(value) if count else None


def usage_series(
    client: StoreClient, config: ImpactConfig, window: Window, bucket_s: float
) -> dict[str, np.ndarray]:
    """Per bucket × model × version × segment: ``volume``, ``input_tokens``, ``output_tokens``,
    ``cached_input_tokens`` (weighted sums), ``attr_cost`` (sum of span cost attributes) and
    ``attr_cost_spans`` (weighted spans carrying one)."""
    names, rows = series_query(
        client, _sql("llm_series"), base_params(config, window, bucket_s), "LLM usage series"
    )
    col = columns_by_name(names, rows)
    out = dims(col, versions=True)
    for name in (
        "volume",
        "input_tokens",
        "output_tokens",
        "cached_input_tokens",
        "attr_cost",
        "attr_cost_spans",
    ):
        out[name] = floats(col[name])
    return out


def evaluation_series(
    client: StoreClient,
    config: ImpactConfig,
    window: Window,
    bucket_s: float,
    *,
    events_end: datetime | None = None,
) -> dict[str, np.ndarray]:
    """Per bucket of the evaluated prediction × model × version × segment × ``evaluator``:
    ``evaluated`` (weighted predictions with a score) and ``mean_score``. Evaluations are read up
    to ``events_end`` (default: the window end)."""
    params = base_params(config, window, bucket_s)
    params |= {
        "event": semconv.EVENT_GEN_AI_EVALUATION_RESULT,
        "events_end_ns": to_ns(events_end or window.end),
    }
    names, rows = series_query(client, _sql("llm_evaluations"), params, "evaluation series")
    col = columns_by_name(names, rows)
    out = dims(col, versions=True)
    out["evaluator"] = np.asarray(col["evaluator"], dtype=object)
    out["evaluated"] = floats(col["evaluated"])
    out["mean_score"] = floats(col["mean_score"])
    return out


__all__ = ["evaluation_series", "read_version_attributes", "usage_series", "write_version_attributes"]
