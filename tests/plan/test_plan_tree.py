"""The metric tree's Live / Needs data status takes the tracking plan into account."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from contract_data import BASE, insert_events, insert_spans

from otel_impact import semconv
from otel_impact.config.loader import config_from_dict
from otel_impact.plan.check import check_store
from otel_impact.plan.tree import tree_marks
from otel_impact.plan.validate import plan_from_dict
from otel_impact.tree import LIVE, NEEDS_DATA, measure_tree

NOW = BASE + timedelta(hours=6)
TREE = {
    "bucket": "1h",
    "lookback": "6h",
    "live_within": "6h",
    "root": {
        "name": "revenue",
        "source": {"event": "business.purchase"},
        "children": [
            {"name": "refunds", "source": {"event": "business.refund"}},
            {"name": "signups", "source": {"event": "business.signup"}},
            {"name": "clicks", "source": {"event": "legacy.click"}},
            {"name": "rec", "kind": "model", "source": {"model": "rec", "agg": "count"}},
            {"name": "cpu", "kind": "cost", "source": {"metric": "process.cpu.time"}},
        ],
    },
}
PLAN = {
    "volume": {"min_count": 1000},
    "events": {
        "business.purchase": {"attributes": {"business.value": {"type": "double", "required": True}}},
        "business.refund": {"status": "planned"},
        "legacy.click": {"status": "deprecated"},
    },
    "predictions": {"rec": {"attributes": {"ml.model.version": {"type": "enum", "values": ["v1"]}}}},
    "tolerances": {"deprecated_in_use": 100, "unknown_event": 100},
}


def test_tree_status_uses_the_plan(store: Any) -> None:
    events = [(600.0 * i, "business.purchase", {semconv.BUSINESS_VALUE: "5.0"}) for i in range(30)]
    events += [(700.0, "business.signup", {}), (800.0, "legacy.click", {})]
    insert_events(store, events)
    spans = [(60.0 * i, {semconv.ML_MODEL_NAME: "rec", semconv.ML_MODEL_VERSION: "v2"}) for i in range(5)]
    insert_spans(store, spans)
    cfg = config_from_dict({"tree": TREE})
    plan = plan_from_dict(PLAN)
    report = check_store(store, plan, NOW - timedelta(hours=6), NOW)
    root = measure_tree(store, cfg.tree, NOW, tree_marks(plan, report))
    assert root is not None
    status = {n.name: n.status for _, n in root.walk()}
    assert status == {
        "revenue": f"{LIVE} (live)",
        "refunds": f"{NEEDS_DATA} (planned)",
        "signups": f"{LIVE} (not in plan)",
        "clicks": f"{LIVE} (deprecated)",
        "rec": f"{NEEDS_DATA} (5 plan violation(s))",  # v2 is not an allowed version
        "cpu": NEEDS_DATA,  # metric sources are outside the plan
    }
    # without a plan the tree is unchanged
    plain = measure_tree(store, cfg.tree, NOW)
    assert plain is not None and {n.name: n.status for _, n in plain.walk()}["rec"] == LIVE
