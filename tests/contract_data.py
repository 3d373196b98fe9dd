"""Rows written straight into the exporter layout, shared by the tracking-plan, contract, deploy-trail
and SLO tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from otel_impact import semconv

BASE = datetime(2026, 11, 1, tzinfo=UTC)
HOUR = 3600.0


def at(seconds: float) -> datetime:
    return BASE + timedelta(seconds=seconds)


def insert_events(client: Any, rows: list[tuple[float, str, dict[str, str]]]) -> None:
    """(seconds after BASE, event name, attributes) per row."""
    data = [
        [at(t), name, "checkout", f"{i:032x}", f"{i:016x}", attrs] for i, (t, name, attrs) in enumerate(rows)
    ]
    if data:
        client.insert(
            semconv.TABLE_LOGS,
            data,
            column_names=["Timestamp", "EventName", "ServiceName", "TraceId", "SpanId", "LogAttributes"],
        )


def insert_spans(client: Any, rows: list[tuple[float, dict[str, str]]], *, service: str = "recsys") -> None:
    """(seconds after BASE, span attributes) per prediction span; ``_ms`` / ``_error`` keys set
    the duration and status and are not stored as attributes."""
    data = []
    for i, (t, attrs) in enumerate(rows):
        attrs = dict(attrs)
        ms = float(attrs.pop("_ms", "10"))
        status = "Error" if attrs.pop("_error", "") else "Ok"
        model = attrs.get(semconv.ML_MODEL_NAME, "")
        data.append(
            [
                at(t),
                f"{i + 10**6:032x}",
                f"{i + 10**6:016x}",
                f"predict {model}",
                service,
                attrs,
                int(ms * 1e6),
                status,
            ]
        )
    if data:
        client.insert(
            semconv.TABLE_TRACES,
            data,
            column_names=[
                "Timestamp", "TraceId", "SpanId", "SpanName", "ServiceName", "SpanAttributes", "Duration", "StatusCode",
            ],
        )  # fmt: skip
