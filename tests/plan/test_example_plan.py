"""The example tracking plan is valid and the example scikit-learn service conforms to it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from otel_impact import semconv
from otel_impact.plan.validate import validate_plan
from otel_impact.testing import as_plan, capture_telemetry

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_example_plan_is_valid() -> None:
    plan = as_plan(EXAMPLES / "tracking-plan.yaml")
    assert validate_plan(plan) == []
    assert set(plan.predictions) == {"LogisticRegression"}


def test_example_service_conforms_to_the_example_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("sklearn")
    from otel_impact.instrument.auto import ImpactInstrumentor

    spec = importlib.util.spec_from_file_location("sklearn_service", EXAMPLES / "sklearn_service.py")
    assert spec is not None and spec.loader is not None
    service = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(service)
    monkeypatch.setenv(semconv.ENV_MODEL_VERSION, "v1")
    with capture_telemetry() as tel:
        ImpactInstrumentor().instrument()
        try:
            purchases = service.main(requests=40)
        finally:
            ImpactInstrumentor().uninstrument()
    kinds = [p.kind for p in tel.payloads()]
    assert kinds.count("event") == purchases > 0 and kinds.count("span") >= 41
    tel.assert_conforms(EXAMPLES / "tracking-plan.yaml")
    # the same telemetry under a plan that expects version v2 only is caught
    monkeypatch.chdir(EXAMPLES)
    strict = as_plan("tracking-plan.yaml").model_copy(deep=True)
    spans = strict.predictions["LogisticRegression"]
    version = spans.attributes["ml.model.version"].model_copy(update={"values": ("v2",)})
    strict = strict.model_copy(
        update={
            "predictions": {
                "LogisticRegression": spans.model_copy(
                    update={"attributes": {**spans.attributes, "ml.model.version": version}}
                )
            }
        }
    )
    assert {f.kind for f in tel.findings(strict)} == {"enum_violation"}
