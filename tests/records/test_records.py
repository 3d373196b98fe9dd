"""The typed result contract: records read exactly what the real pipeline writes, and nothing else.

The documents are the recorded real-pipeline results (``tests/data/record_results.py``;
``tests/demo/test_demo_e2e.py`` checks a fresh run still produces them), so a section a stage
changes without its record fails here and in the e2e run (``analyze`` validates every result).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from results import recorded, recorded_llm, recorded_result
from store_testing import document_differences

from otel_impact.errors import AnalysisError
from otel_impact.records import Alert, Correlation, Result, make_alert
from otel_impact.records.schema import (
    RESULT_SCHEMA_VERSION,
    records_table,
    render,
    replace_records,
    result_schema,
)

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("doc", [recorded(), recorded_llm()], ids=["demo", "llm"])
def test_a_recorded_document_reads_and_writes_back_unchanged(doc: dict[str, Any]) -> None:
    back = json.loads(json.dumps(Result.from_json(doc).to_json()))
    assert document_differences(back, doc) == []


def test_records_hold_datetimes_and_python_names() -> None:
    result = recorded_result()
    assert result.window.start == datetime(2026, 10, 21, tzinfo=UTC)
    alert = result.alerts[0]
    assert isinstance(alert, Alert) and isinstance(alert.at, datetime) and alert.at.tzinfo is not None
    linked = result.incidents[0].linked[0]
    assert linked.pipeline == linked.to_json()["pipeline.name"]
    corr = result.correlations[0]
    assert isinstance(corr, Correlation) and corr.model_name == corr.to_json()["ml.model.name"]


def test_an_undeclared_key_or_a_wrong_type_names_its_path() -> None:
    doc = recorded()
    doc["alerts"][2]["severtiy"] = "critical"
    with pytest.raises(AnalysisError, match=r"alerts\.2\.severtiy: Extra inputs are not permitted"):
        Result.from_json(doc)
    doc = recorded()
    doc["lift"][0]["n"] = "many"
    with pytest.raises(AnalysisError, match=r"lift\.0\.n: "):
        Result.from_json(doc)
    doc = recorded()
    doc["alerts"][0]["severity"] = "high"
    with pytest.raises(
        AnalysisError, match=r"alerts\.0\.severity: Input should be 'info', 'warning' or 'critical'"
    ):
        Result.from_json(doc)


def test_an_undefined_number_is_null_in_json() -> None:
    corr = recorded_result().correlations[0].model_copy(update={"estimate": math.nan, "pvalue": math.inf})
    out = corr.to_json()
    assert out["estimate"] is None and out["pvalue"] is None
    assert json.loads(json.dumps(out, allow_nan=False))["estimate"] is None


def test_make_alert_is_the_one_constructor() -> None:
    at = datetime(2026, 11, 1, tzinfo=UTC)
    alert = make_alert("drift", at=at, message="m", attributes={"ml.model.name": "ranker", "x": None})
    assert alert.to_json() == {
        "rule": "drift",
        "state": "firing",
        "severity": "warning",
        "at": "2026-11-01T00:00:00Z",
        "message": "m",
        "attributes": {"ml.model.name": "ranker"},
    }
    assert Alert.from_json(alert.to_json()) == alert
    assert recorded_result().firing_alerts() == [a for a in recorded_result().alerts if a.state == "firing"]


def test_the_published_schema_is_generated_and_the_recorded_documents_validate() -> None:
    committed = (DOCS / "result-schema.json").read_text(encoding="utf-8")
    assert committed == render(), "docs/result-schema.json is out of date: run `make docs`"
    schema = result_schema()
    assert schema["version"] == RESULT_SCHEMA_VERSION and RESULT_SCHEMA_VERSION in schema["$id"]
    validator = jsonschema.Draft202012Validator(schema)
    jsonschema.Draft202012Validator.check_schema(schema)
    for doc in (recorded(), recorded_llm()):
        assert [e.message for e in validator.iter_errors(doc)] == []
    bad = recorded()
    bad["correlations"][0]["estimate"] = "high"
    bad["alerts"][0]["extra"] = 1
    messages = sorted(e.message for e in validator.iter_errors(bad))
    assert len(messages) == 2 and "'high' is not of type 'number', 'null'" in messages


def test_the_record_table_in_architecture_md_is_generated() -> None:
    page = (DOCS / "architecture.md").read_text(encoding="utf-8")
    assert page == replace_records(page, records_table()), (
        "run `make docs` (the records table is out of date)"
    )
    assert "| `lift` | list of `Lift` |" in page
