"""otel_impact.testing: a service's unit tests assert its telemetry conforms to the plan."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from otel_impact import instrument, semconv
from otel_impact.config.contract import TrackingPlan
from otel_impact.testing import Captured, as_plan, assert_conforms, capture_telemetry

PLAN: dict[str, Any] = {
    "events": {
        "business.purchase": {
            "attributes": {
                "business.value": {"type": "double", "required": True},
                "business.currency": {"type": "enum", "values": ["EUR", "USD"]},
                "user.id": {"type": "string", "required": True},
            }
        },
        "pipeline.run": {"status": "deprecated"},
    },
    "predictions": {
        "ranker": {
            "attributes": {
                "ml.model.version": {"type": "enum", "values": ["v1", "v2"], "required": True},
                "ml.prediction.id": "string",
                "ml.prediction.score": "double",
                "ml.prediction.label": "string",
                "user.id": "string",
                "ranker.items": "int",
            }
        }
    },
}


def checkout(version: str = "v2", currency: str = "EUR", *, with_value: bool = True) -> None:
    """A tiny 'service' using the module-level instrumentation API."""
    with instrument.track_prediction("ranker", version, user_id="u1") as p:
        p.record(score=0.8, label="click")
    instrument.record_business_event(
        "purchase", 19.5 if with_value else None, currency=currency, user_id="u1", prediction_id=p.id
    )


def kinds(tel: Captured, plan: Any = None, **kw: Any) -> list[tuple[str, str, str | None]]:
    return [
        (f.kind, f.entry, f.attribute) for f in tel.findings(plan or TrackingPlan.model_validate(PLAN), **kw)
    ]


def test_conforming_service_passes() -> None:
    with capture_telemetry() as tel:
        checkout()
    assert [p.kind for p in tel.payloads()] == ["span", "event"]
    tel.assert_conforms(TrackingPlan.model_validate(PLAN))
    assert_conforms(tel, TrackingPlan.model_validate(PLAN))


def test_each_kind_of_finding_is_reported() -> None:
    with capture_telemetry() as tel:
        checkout(version="v3", currency="GBP", with_value=False)
        instrument.record_pipeline_event("features", "success")
        instrument.record_business_event("refund", 3.0, user_id="u1")
    assert kinds(tel) == [
        ("enum_violation", "predict ranker", semconv.ML_MODEL_VERSION),
        ("missing_required", "business.purchase", semconv.BUSINESS_VALUE),
        ("enum_violation", "business.purchase", semconv.BUSINESS_CURRENCY),
        ("deprecated_in_use", "pipeline.run", None),
        ("unknown_event", "business.refund", None),
    ]
    with pytest.raises(AssertionError, match=r"5 finding\(s\)") as info:
        tel.assert_conforms(TrackingPlan.model_validate(PLAN))
    assert "business.refund" in str(info.value)


def test_typed_values_and_undeclared_attributes_with_plain_otel_tracer() -> None:
    with capture_telemetry() as tel:
        tracer = tel.tracer_provider.get_tracer("svc")
        attrs = {
            semconv.ML_MODEL_NAME: "ranker",
            semconv.ML_MODEL_VERSION: "v1",
            "ranker.items": 2.5,
            "extra": "x",
        }
        with tracer.start_as_current_span("predict ranker", attributes=attrs):
            pass
        with tracer.start_as_current_span("other", attributes={"http.method": "GET"}):
            pass  # not a prediction span: ignored
    assert kinds(tel) == [("wrong_type", "predict ranker", "ranker.items")]
    assert kinds(tel, undeclared=True) == [
        ("wrong_type", "predict ranker", "ranker.items"),
        ("undeclared_attribute", "predict ranker", "extra"),
    ]


def test_plan_from_config_file_and_separate_plan_file(tmp_path: Path) -> None:
    import yaml

    (tmp_path / "plan.yaml").write_text(yaml.safe_dump(PLAN), encoding="utf-8")
    (tmp_path / "impact.yaml").write_text("tracking_plan:\n  file: plan.yaml\n", encoding="utf-8")
    with capture_telemetry() as tel:
        checkout()
    tel.assert_conforms(tmp_path / "impact.yaml")
    tel.assert_conforms(str(tmp_path / "plan.yaml"))
    assert set(as_plan(tmp_path / "impact.yaml").events) == {"business.purchase", "pipeline.run"}


def test_capture_restores_the_default_instrumentation() -> None:
    with capture_telemetry() as tel:
        inside = instrument.get_instrumentation()
    assert instrument.get_instrumentation() is not inside
    checkout()  # after the block nothing lands in the captured exporters
    assert tel.payloads() == []


def test_fixture_is_usable(captured_telemetry: Captured) -> None:
    checkout()
    captured_telemetry.assert_conforms(TrackingPlan.model_validate(PLAN))


def test_helper_does_not_import_numpy_or_chdb() -> None:
    code = (
        "import sys, otel_impact.testing as t; "
        "print(sorted(m for m in ('numpy', 'scipy', 'chdb', 'clickhouse_connect') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]"
