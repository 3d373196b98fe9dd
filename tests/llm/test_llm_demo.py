"""The demo's LLM part: emitted into the demo's receiver, analysed, exported back, written to files.
(What it recovers is checked at full size by test_llm_e2e.py; this run is small.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from llm_harness import START

from otel_impact import semconv
from otel_impact.demo.llm_demo import run_llm_demo
from otel_impact.receive import Receiver


def test_llm_demo_exports_its_results_and_writes_its_files(store: Any, tmp_path: Path) -> None:
    lines: list[str] = []
    with Receiver(store, http="127.0.0.1:0", grpc=None) as rx:
        rows = run_llm_demo(store, str(rx.endpoints.http), START, 8, tmp_path, lines.append, users_per_day=4)
    assert rows is not None and len(rows) == 4
    assert any("opentelemetry-instrumentation-openai-v2" in line for line in lines)
    document = json.loads((tmp_path / "llm-results.json").read_text())
    assert len(document["planted_vs_recovered"]) == 4 and document["cost"]
    assert "LLM cost per business outcome" in (tmp_path / "llm-report.md").read_text()
    assert "support_upgrade" in (tmp_path / "llm-impact.yaml").read_text()
    exported = store.query(
        "SELECT count() FROM otel_metrics_gauge WHERE MetricName = {m:String}",
        parameters={"m": semconv.METRIC_IMPACT_COST_PER_OUTCOME},
    ).result_rows[0][0]
    assert exported >= 2  # per version (and all versions), all users
