"""Alert calibration on null data (fast subset of benchmarks/alert_calibration.py).

Worlds with no planted effect (iid daily metrics; AR(1) φ = 0.7 metrics with routine daily
pipeline runs) go through the store and the production job; the alert rules must stay quiet:
no critical alert, and at most one alert of any severity per world from the rules in
docs/alerts.md.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from null_worlds import FAMILIES, config, load, window

from otel_impact.config import config_from_dict
from otel_impact.job import run_job

RULES = {"accuracy_drop", "latency_p95", "drift", "drift_score", "business_impact", "correlation_breakdown",
         "transfer_saturation", "slo_burn_rate"}  # fmt: skip
BY_NAME = {f.name: f for f in FAMILIES}
CASES = [
    (replace(BY_NAME["iid-daily-30d"], per_bucket=250), 101),
    (replace(BY_NAME["pipelines-ar0.5-daily-60d"], phi=0.7, days=30, per_bucket=250), 102),
]


@pytest.mark.parametrize(("family", "seed"), CASES, ids=[c[0].name for c in CASES])
def test_null_world_raises_no_critical_and_at_most_one_alert(store: Any, family: Any, seed: int) -> None:
    load(store, family, seed)
    start, end = window(family)
    out = run_job(store, config_from_dict(config(family)), since=start, until=end, export=False)
    firing = out.result.firing_alerts()
    mine = [a for a in firing if a.rule in RULES or a.rule.startswith("adaptive_")]
    assert not [a for a in mine if a.severity == "critical"], mine
    assert len(mine) <= 1, [(a.rule, a.severity, a.message[:80]) for a in mine]
