"""Helpers shared by the series/correlation/lift stage tests: write rows into the exporter layout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from otel_impact import semconv

BASE = datetime(2026, 11, 1, tzinfo=UTC)
DAY = 86400.0


def at(seconds: float) -> datetime:
    return BASE + timedelta(seconds=seconds)


def insert_predictions(client: Any, rows: list[dict[str, Any]]) -> None:
    """Prediction spans: ts (s after BASE), user, session, version, pid, score, ms, segments, adjusted, model."""
    data = []
    for i, r in enumerate(rows):
        attrs = {
            semconv.ML_MODEL_NAME: r.get("model", "ranker"),
            semconv.ML_MODEL_VERSION: r.get("version", "v1"),
            semconv.ML_PREDICTION_ID: r.get("pid", f"p{i:06d}"),
            semconv.USER_ID: r.get("user", ""),
        }
        if r.get("session"):
            attrs[semconv.SESSION_ID] = r["session"]
        if r.get("score") is not None:
            attrs[semconv.ML_PREDICTION_SCORE] = repr(float(r["score"]))
        for key, value in (r.get("segments") or {}).items():
            attrs[semconv.segment_attribute(key)] = value
        for key, value in (r.get("attrs") or {}).items():
            attrs[key] = value
        if r.get("adjusted", 1.0) != 1.0:
            attrs[semconv.SAMPLING_ADJUSTED_COUNT] = repr(float(r["adjusted"]))
        duration = int(r.get("ms", 10.0) * 1_000_000)
        data.append([at(r["ts"]), f"{i:032x}", f"{i:016x}", "predict ranker", "recommender", attrs, duration])
    if data:
        client.insert(
            semconv.TABLE_TRACES,
            data,
            column_names=[
                "Timestamp", "TraceId", "SpanId", "SpanName", "ServiceName", "SpanAttributes", "Duration",
            ],
        )  # fmt: skip


def insert_events(client: Any, rows: list[dict[str, Any]]) -> None:
    """Log events: ts, name (default business.purchase), user, value, pid, label."""
    data = []
    for r in rows:
        attrs = {}
        if r.get("user"):
            attrs[semconv.USER_ID] = r["user"]
        if r.get("value") is not None:
            attrs[semconv.BUSINESS_VALUE] = repr(float(r["value"]))
        if r.get("pid"):
            attrs[semconv.ML_PREDICTION_ID] = r["pid"]
        if r.get("label") is not None:
            attrs[semconv.ML_OUTCOME_LABEL] = r["label"]
        data.append([at(r["ts"]), r.get("name", "business.purchase"), "checkout", attrs])
    if data:
        client.insert(
            semconv.TABLE_LOGS, data, column_names=["Timestamp", "EventName", "ServiceName", "LogAttributes"]
        )
