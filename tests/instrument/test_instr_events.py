"""Business, outcome and pipeline events through the Logs API with EventName."""

from __future__ import annotations

import logging

import pytest
from otel_harness import Otel

from otel_impact import (
    record_business_event,
    record_outcome,
    record_pipeline_event,
    semconv,
    track_prediction,
)


def test_business_event(otel: Otel) -> None:
    record_business_event(
        "purchase", value=42.0, currency="EUR", user_id="u1", session_id="s1",
        prediction_id="p1", request_id="r1", timestamp=1_700_000_000_000_000_000,
    )  # fmt: skip
    [event] = otel.events()
    assert event.event_name == "business.purchase"
    assert event.timestamp == 1_700_000_000_000_000_000
    assert dict(event.attributes) == {
        semconv.BUSINESS_VALUE: 42.0,
        semconv.BUSINESS_CURRENCY: "EUR",
        semconv.USER_ID: "u1",
        semconv.SESSION_ID: "s1",
        semconv.ML_PREDICTION_ID: "p1",
        semconv.ML_REQUEST_ID: "r1",
    }


def test_business_event_minimal_and_extra_attributes(otel: Otel) -> None:
    record_business_event("subscription", user_id=7, attributes={"plan": "pro"})
    [event] = otel.events()
    assert event.event_name == "business.subscription"
    assert dict(event.attributes) == {semconv.USER_ID: "7", "plan": "pro"}
    assert event.timestamp is not None and event.timestamp > 1_600_000_000_000_000_000


def test_outcome_event(otel: Otel) -> None:
    with track_prediction("ranker", "v2") as p:
        pass
    record_outcome(p.id, label="1", value=1.0, model="ranker", version="v2", timestamp=5)
    [event] = otel.events()
    assert event.event_name == semconv.EVENT_ML_OUTCOME
    assert event.timestamp == 5
    assert dict(event.attributes) == {
        semconv.ML_PREDICTION_ID: p.id,
        semconv.ML_OUTCOME_LABEL: "1",
        semconv.ML_OUTCOME_VALUE: 1.0,
        semconv.ML_MODEL_NAME: "ranker",
        semconv.ML_MODEL_VERSION: "v2",
    }


@pytest.mark.parametrize(("kind", "event_name"), [("run", "pipeline.run"), ("incident", "pipeline.incident")])
def test_pipeline_event(otel: Otel, kind: str, event_name: str) -> None:
    record_pipeline_event(
        "features_daily", status="failed", dataset="clicks", data_version="2026-11-20",
        change="schema_change", kind=kind, timestamp=123,  # type: ignore[arg-type]
    )  # fmt: skip
    [event] = otel.events()
    assert event.event_name == event_name
    assert event.timestamp == 123
    assert dict(event.attributes) == {
        semconv.PIPELINE_NAME: "features_daily",
        semconv.PIPELINE_STATUS: "failed",
        semconv.DATASET_NAME: "clicks",
        semconv.DATA_VERSION: "2026-11-20",
        semconv.PIPELINE_CHANGE: "schema_change",
    }


def test_event_inside_prediction_is_linked_to_its_trace(otel: Otel) -> None:
    with track_prediction("m", "v") as p:
        record_business_event("click", user_id="u1")
    [event] = otel.events()
    ctx = p.span.get_span_context()
    assert (event.trace_id, event.span_id) == (ctx.trace_id, ctx.span_id)


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: record_business_event("", value=1.0), "name"),
        (lambda: record_business_event("purchase", value="lots"), "value"),  # type: ignore[arg-type]
        (lambda: record_business_event("purchase", value=float("nan")), "value"),
        (lambda: record_outcome(""), "prediction_id"),
        (lambda: record_pipeline_event("p", ""), "status"),
        (lambda: record_pipeline_event("p", "ok", kind="other"), "kind"),  # type: ignore[arg-type]
    ],
)
def test_invalid_arguments_drop_the_event_with_a_warning(
    otel: Otel, caplog: pytest.LogCaptureFixture, call: object, argument: str
) -> None:
    with caplog.at_level(logging.WARNING, logger="otel_impact.instrument"):
        call()  # type: ignore[operator]
    assert otel.events() == []
    [record] = caplog.records
    assert record.exc_info is not None and argument in str(record.exc_info[1])
