"""Store checks against the tracking plan: every planted violation kind is found with its count
and an example, and a clean window passes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from contract_data import BASE, HOUR, at, insert_events, insert_spans

from otel_impact import semconv
from otel_impact.config.contract import TrackingPlan, VolumeCheck
from otel_impact.plan.check import check_store, volume_anomalies
from otel_impact.plan.validate import plan_from_dict

PLAN: dict[str, Any] = {
    "max_cardinality": 1000,
    "volume": {"bucket": "1h", "min_count": 5, "drop": 0.2, "spike": 5},
    "events": {
        "business.purchase": {
            "owner": "growth@example.com",
            "attributes": {
                "business.value": {"type": "double", "required": True},
                "business.currency": {"type": "enum", "values": ["EUR", "USD"], "required": True},
                "user.id": {"type": "string", "required": True, "max_cardinality": 50},
                "cart.items": "int",
                "cart.gift": "bool",
            },
            "example": {"business.value": 12.5, "business.currency": "EUR", "user.id": "u1", "cart.items": 2},
        },
        "legacy.click": {"status": "deprecated", "volume": False},
        "ml.outcome": {
            "volume": False,
            "attributes": {
                "ml.prediction.id": {"type": "string", "required": True},
                "ml.outcome.label": "int",
            },
        },
        "pipeline.run": {
            "status": "planned",
            "attributes": {"pipeline.name": {"type": "string", "required": True}},
        },
    },
    "predictions": {
        "recommender": {
            "volume": False,
            "attributes": {
                "ml.model.version": {"type": "enum", "values": ["v1", "v2"], "required": True},
                "ml.prediction.score": {"type": "double", "required": True},
            },
        }
    },
}


def good_purchase(i: int) -> dict[str, str]:
    return {
        semconv.BUSINESS_VALUE: f"{10 + i % 7}.5",
        semconv.BUSINESS_CURRENCY: "EUR" if i % 2 else "USD",
        semconv.USER_ID: f"u{i % 20}",
        "cart.items": str(1 + i % 3),
        "cart.gift": "true" if i % 5 == 0 else "false",
    }


def clean_day(day: int) -> tuple[list[tuple[float, str, dict[str, str]]], list[tuple[float, dict[str, str]]]]:
    events = []
    for h in range(24):
        for j in range(20):
            events.append(
                (day * 86400 + h * HOUR + j * 150.0, "business.purchase", good_purchase(h * 20 + j))
            )
    spans = [
        (
            day * 86400 + k * 600.0,
            {
                semconv.ML_MODEL_NAME: "recommender",
                semconv.ML_MODEL_VERSION: "v1" if k % 2 else "v2",
                semconv.ML_PREDICTION_SCORE: f"0.{k % 9 + 1}",
            },
        )
        for k in range(100)
    ]
    return events, spans


def violations_by(report: Any) -> dict[tuple[str, str, str | None], Any]:
    return {(v.kind, v.entry, v.attribute): v for v in report.violations}


@pytest.fixture()
def planted(store: Any) -> Any:
    events, spans = clean_day(0)
    # hour 7: only one purchase (volume drop); hour 15: 200 purchases by new users (spike + cardinality)
    events = [e for e in events if not (7 * HOUR <= e[0] < 8 * HOUR and e[0] != 7 * HOUR)]
    events += [
        (15 * HOUR + i, "business.purchase", {**good_purchase(i), semconv.USER_ID: f"new{i}"})
        for i in range(200)
    ]
    bad = good_purchase(3)
    events += [
        (3 * HOUR + 1 + i, "business.purchase", {k: v for k, v in bad.items() if k != semconv.BUSINESS_VALUE})
        for i in range(3)
    ]
    events += [(4 * HOUR + 1 + i, "business.purchase", {**bad, "cart.items": "two"}) for i in range(4)]
    events += [(4 * HOUR + 9 + i, "business.purchase", {**bad, "cart.gift": "yes"}) for i in range(2)]
    events += [
        (5 * HOUR + 1 + i, "business.purchase", {**bad, semconv.BUSINESS_CURRENCY: "GBP"}) for i in range(5)
    ]
    events += [(6 * HOUR + i, "business.refund", {semconv.USER_ID: "u1"}) for i in range(2)]
    events += [(6 * HOUR + 10 + i, "legacy.click", {}) for i in range(3)]
    events += [
        (8 * HOUR + i, "ml.outcome", {"ml.prediction.id": f"p{i}", "ml.outcome.label": "1"}) for i in range(3)
    ]
    events += [(8 * HOUR + 9 + i, "ml.outcome", {"ml.outcome.label": "0.5"}) for i in range(2)]
    events += [(6 * HOUR + 20, semconv.EVENT_IMPACT_ALERT, {})]  # analyzer output: ignored
    spans += [
        (
            9 * HOUR + i,
            {
                semconv.ML_MODEL_NAME: "recommender",
                semconv.ML_MODEL_VERSION: "v1",
                semconv.ML_PREDICTION_SCORE: "high",
            },
        )
        for i in range(2)
    ]
    spans += [
        (
            9 * HOUR + 5,
            {
                semconv.ML_MODEL_NAME: "recommender",
                semconv.ML_MODEL_VERSION: "v3",
                semconv.ML_PREDICTION_SCORE: "0.5",
            },
        )
    ]
    spans += [(9 * HOUR + 6, {semconv.ML_MODEL_NAME: "ranker", semconv.ML_MODEL_VERSION: "v1"})]
    day2_events, day2_spans = clean_day(1)
    insert_events(store, events + day2_events)
    insert_spans(store, spans + day2_spans)
    return store


def test_every_planted_violation_is_reported_with_count_and_example(planted: Any) -> None:
    plan = plan_from_dict(PLAN)
    report = check_store(planted, plan, BASE, BASE + timedelta(days=1))
    got = violations_by(report)
    purchase = "business.purchase"
    expected = {
        ("missing_required", purchase, semconv.BUSINESS_VALUE): 3,
        ("wrong_type", purchase, "cart.items"): 4,
        ("wrong_type", purchase, "cart.gift"): 2,
        ("enum_violation", purchase, semconv.BUSINESS_CURRENCY): 5,
        ("cardinality", purchase, semconv.USER_ID): 1,
        ("unknown_event", "business.refund", None): 1,
        ("unknown_event", "predict ranker", None): 1,
        ("deprecated_in_use", "legacy.click", None): 3,
        ("missing_required", "ml.outcome", "ml.prediction.id"): 2,  # same pass, its own key arrays
        ("wrong_type", "ml.outcome", "ml.outcome.label"): 2,
        ("wrong_type", "predict recommender", semconv.ML_PREDICTION_SCORE): 2,
        ("enum_violation", "predict recommender", semconv.ML_MODEL_VERSION): 1,
        ("volume_drop", purchase, None): 1,
        ("volume_spike", purchase, None): 1,
    }
    assert {k: v.count for k, v in got.items()} == expected
    # examples point at offending rows and carry the offending value
    assert got[("wrong_type", purchase, "cart.items")].examples[0]["value"] == "two"
    assert got[("enum_violation", purchase, semconv.BUSINESS_CURRENCY)].examples[0]["value"] == "GBP"
    assert len(got[("enum_violation", purchase, semconv.BUSINESS_CURRENCY)].examples) == plan.examples
    assert got[("missing_required", purchase, semconv.BUSINESS_VALUE)].examples[0]["ts"] >= at(3 * HOUR)
    assert (
        got[("wrong_type", "predict recommender", semconv.ML_PREDICTION_SCORE)].examples[0]["service"]
        == "recsys"
    )
    assert got[("volume_drop", purchase, None)].examples[0]["rows"] == 1
    assert got[("volume_spike", purchase, None)].examples[0]["rows"] == 220
    assert got[("cardinality", purchase, semconv.USER_ID)].message.startswith("user.id: about 2")
    assert not report.ok
    assert set(report.exceeded()) == {k for k, _, _ in expected}
    doc = report.to_json()
    assert doc["summary"]["wrong_type"] == {"count": 10, "tolerance": 0, "exceeded": True}
    entries = {e["name"]: e for e in doc["entries"]}
    assert entries["pipeline.run"] == {
        **entries["pipeline.run"],
        "live": False,
        "rows": 0,
        "status": "planned",
    }
    assert entries["predict recommender"]["rows"] == 103


def test_tolerances_allow_violations_up_to_the_configured_count(planted: Any) -> None:
    tol = {
        "unknown_event": 2, "deprecated_in_use": 3, "missing_required": 5, "wrong_type": 10,
        "enum_violation": 6, "cardinality": 1, "volume_drop": 1, "volume_spike": 1,
    }  # fmt: skip
    plan = plan_from_dict({**PLAN, "tolerances": tol})
    report = check_store(planted, plan, BASE, BASE + timedelta(days=1))
    assert report.ok and report.violations
    tighter = plan_from_dict({**PLAN, "tolerances": {**tol, "enum_violation": 5}})
    assert check_store(planted, tighter, BASE, BASE + timedelta(days=1)).exceeded() == ["enum_violation"]


def test_only_signals_the_plan_covers_can_be_unknown(planted: Any) -> None:
    events_only = plan_from_dict({k: v for k, v in PLAN.items() if k != "predictions"})
    report = check_store(planted, events_only, BASE, BASE + timedelta(days=1))
    assert {v.entry for v in report.violations if v.kind == "unknown_event"} == {"business.refund"}
    spans_only = plan_from_dict({"predictions": PLAN["predictions"]})
    report = check_store(planted, spans_only, BASE, BASE + timedelta(days=1))
    assert {v.entry for v in report.violations if v.kind == "unknown_event"} == {"predict ranker"}


def test_clean_window_passes(planted: Any) -> None:
    report = check_store(planted, plan_from_dict(PLAN), BASE + timedelta(days=1), BASE + timedelta(days=2))
    assert report.violations == []
    assert report.ok


def test_invalid_example_payload_fails_the_plan_itself(store: Any) -> None:
    bad = {
        **PLAN["events"]["business.purchase"],
        "example": {"business.value": "lots", "user.id": "u", "x": 1},
    }
    plan = plan_from_dict({**PLAN, "events": {**PLAN["events"], "business.purchase": bad}})
    report = check_store(store, plan, BASE, BASE + timedelta(days=1))
    paths = sorted(p.path for p in report.problems)
    prefix = "tracking_plan.events.business.purchase.example"
    assert paths == [prefix, f"{prefix}.business.value", f"{prefix}.x"]
    assert not report.ok and report.violations == []


def test_volume_anomalies_rules() -> None:
    rule = VolumeCheck(min_count=10, min_buckets=3)
    assert volume_anomalies({0: 100, 1: 100, 2: 100}, 3, rule) == []
    assert volume_anomalies({0: 100, 2: 100, 3: 600}, 4, rule) == [
        (1, 0, 100.0, "volume_drop"),
        (3, 600, 100.0, "volume_spike"),
    ]
    assert volume_anomalies({0: 5, 1: 0, 2: 5}, 3, rule) == []  # below min_count: too thin to judge
    assert volume_anomalies({0: 100}, 2, rule) == []  # too few buckets


def test_plan_model_rejects_bad_specs() -> None:
    from otel_impact.errors import ConfigError

    with pytest.raises(ConfigError, match=r"events\.e\.attributes\.a"):
        plan_from_dict({"events": {"e": {"attributes": {"a": {"type": "enum"}}}}})
    with pytest.raises(ConfigError, match="unknown key"):
        plan_from_dict({"events": {"e": {"colour": "red"}}})
    with pytest.raises(ConfigError):
        plan_from_dict({"events": {"e": {"status": "retired"}}})
    assert TrackingPlan().empty
