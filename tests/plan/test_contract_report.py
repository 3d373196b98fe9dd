"""The contract sections reach the exported impact.slo.* metrics and the reports."""

from __future__ import annotations

from results import recorded

from otel_impact import semconv
from otel_impact.export.points import result_points
from otel_impact.records import Result
from otel_impact.report.contract import contract_sections
from otel_impact.report.markdown import render_markdown

WINDOW = {"start": "2026-11-01T00:00:00Z", "end": "2026-11-02T00:00:00Z"}


def _slo_result() -> Result:
    """Two SLOs as records: a model SLO and a pipeline SLO of the recorded demo, renamed and
    given the values the test checks."""
    doc = recorded()
    latency, runs = doc["slos"][0], doc["slos"][2]
    assert (latency["sli"], runs["sli"]) == ("latency", "success_rate")
    latency |= {"name": "rec-latency", semconv.ML_MODEL_NAME: "rec", "objective": 0.999, "estimate": 0.98,
                "budget_remaining": -0.5}  # fmt: skip
    latency["windows"] = [
        latency["windows"][0] | {"burn_long": 20.0},
        latency["windows"][1] | {"burn_long": None},
    ]
    runs |= {
        "name": "runs",
        semconv.PIPELINE_NAME: "features",
        "estimate": 0.9,
        "budget_remaining": None,
        "windows": [],
    }
    return Result.from_json({"window": WINDOW, "slos": [latency, runs]})


def test_slo_points_are_exported_with_names_and_windows() -> None:
    points = result_points(_slo_result(), run_id="r1")
    got = {
        (
            p.name,
            p.attributes.get(semconv.IMPACT_SLO_NAME),
            p.attributes.get(semconv.IMPACT_SLO_WINDOW),
        ): p.value
        for p in points
    }
    assert got == {
        (semconv.METRIC_IMPACT_SLO_SLI, "rec-latency", None): 0.98,
        (semconv.METRIC_IMPACT_SLO_BUDGET_REMAINING, "rec-latency", None): -0.5,
        (semconv.METRIC_IMPACT_SLO_BURN_RATE, "rec-latency", "1h/5m"): 20.0,
        (semconv.METRIC_IMPACT_SLO_SLI, "runs", None): 0.9,
    }
    runs = next(p for p in points if p.attributes.get(semconv.IMPACT_SLO_NAME) == "runs")
    assert runs.attributes[semconv.PIPELINE_NAME] == "features"
    assert runs.attributes[semconv.IMPACT_SLO_KIND] == "success_rate"


def _contract_result() -> Result:
    """The recorded result with a burning SLO, a failed tracking plan and an applied rollout."""
    doc = recorded()
    slo = doc["slos"][0]
    slo.update({"name": "rec-latency", semconv.ML_MODEL_NAME: "rec", "objective": 0.999, "estimate": 0.98,
                "budget_remaining": -0.5})  # fmt: skip
    slo["windows"][0].update({"window": "1h/5m", "burn_long": 20.0, "firing": True})
    plan = doc["tracking_plan"]
    plan["ok"] = False
    plan["summary"]["wrong_type"].update({"count": 4, "exceeded": True})
    example = {"ts": None, "trace_id": "abc", "span_id": None, "service": None, "value": "two"}
    plan["violations"] = [{"kind": "wrong_type", "entry": "business.purchase", "source": "event",
                           "attribute": "cart.items", "count": 4, "rows": 500, "rate": 0.008,
                           "message": "cart.items is not an int", "examples": [example]}]  # fmt: skip
    doc["deployments"]["kpi_rollout"]["applied"] = True
    return Result.from_json(doc)


def test_report_sections_show_violations_trail_and_slos() -> None:
    result = _contract_result()
    plan, deploy, slos = contract_sections(result)
    assert "FAILED" in plan.notes[0]
    assert [
        "wrong_type",
        "business.purchase",
        "cart.items",
        "4",
        "500",
        "trace_id=abc, value=two",
    ] in plan.tables[1].rows
    assert deploy.charts and "traffic share" in deploy.charts[0]
    assert any("KPI pre/post boundary: used as" in n for n in deploy.notes)
    assert slos.tables[0].rows[0][:6] == ["rec-latency", "rec", "latency", "0.999", "0.98", "-0.5"]
    assert "1h/5m: 20 FIRING" in slos.tables[0].rows[0][6]
    md = render_markdown(result)
    for title in ("Tracking plan conformance", "Model deployments", "SLOs and error budgets"):
        assert f"## {title}" in md
    assert all(s.empty for s in contract_sections(Result.from_json({"window": recorded()["window"]})))
