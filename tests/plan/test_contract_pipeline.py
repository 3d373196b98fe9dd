"""The analyzer job carries the contract sections: tracking_plan, deployments (with the KPI
boundary), slos, resources — JSON-able, with their alerts in ``alerts``."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from contract_data import BASE, HOUR, at, insert_events, insert_spans

from otel_impact import semconv
from otel_impact.config.loader import config_from_dict
from otel_impact.pipeline import STAGES, Window, analyze

CONFIG = {
    "business_metrics": [{"name": "purchase", "source": {"event": "business.purchase"}}],
    "series": {"bucket": "1h"},
    "tracking_plan": {
        "events": {
            "business.purchase": {"attributes": {"business.value": {"type": "double", "required": True}}}
        },
        "predictions": {
            "rec": {"attributes": {"ml.model.version": {"type": "enum", "values": ["v1", "v2"]}}}
        },
        "volume": {"min_count": 10_000},
    },
    "deployments": {"bucket": "1h"},
    "slos": {"models": [{"name": "rec-errors", "model": "rec", "sli": "error_rate", "objective": 0.99}]},
}


def test_job_result_has_the_contract_sections(store: Any) -> None:
    spans = []
    for i in range(24 * 20):  # 20 predictions an hour; v2 takes over at 12:00; errors 18:00–18:30
        t = i * 180.0
        attrs = {semconv.ML_MODEL_NAME: "rec", semconv.ML_MODEL_VERSION: "v2" if t >= 12 * HOUR else "v1"}
        attrs[semconv.USER_ID] = f"u{i % 50}"
        if 18 * HOUR <= t < 18.5 * HOUR:
            attrs["_error"] = "1"
        spans.append((t, attrs))
    insert_spans(store, spans)
    events = [
        (i * 900.0 + 60, "business.purchase", {semconv.BUSINESS_VALUE: "5", semconv.USER_ID: f"u{i % 50}"})
        for i in range(96)
    ]
    events.append((3 * HOUR, "business.purchase", {semconv.USER_ID: "u1"}))  # missing business.value
    insert_events(store, events)
    window = Window(BASE, BASE + timedelta(days=1))
    result = analyze(store, config_from_dict(CONFIG), window).to_json()
    json.dumps(result)  # JSON-able throughout
    assert [s.name for s in STAGES].index("deployments") < [s.name for s in STAGES].index("lift")
    plan = result["tracking_plan"]
    assert plan["ok"] is False and plan["summary"]["missing_required"]["count"] == 1
    assert plan["violations"][0]["examples"][0]["ts"] == "2026-11-01T03:00:00Z"
    (trail,) = result["deployments"]["models"]
    assert [p["start"] for p in trail["phases"]] == ["2026-11-01T00:00:00Z", "2026-11-01T12:00:00Z"]
    assert result["deployments"]["kpi_rollout"]["at"] == "2026-11-01T12:00:00Z"
    assert result["kpi"]["rollout"] == "2026-11-01T12:00:00Z"  # the KPI table used the trail's boundary
    (slo,) = result["slos"]
    assert any(a["state"] == "firing" for a in slo["alerts"])
    rules = {a["rule"] for a in result["alerts"]}
    assert {"tracking_plan", "slo_burn_rate"} <= rules
    assert at(18 * HOUR).strftime("%Y-%m-%dT%H") in next(
        a["at"] for a in result["alerts"] if a["rule"] == "slo_burn_rate"
    )
