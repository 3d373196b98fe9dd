"""End to end: a reduced demo (2,000 users × 30 days) through the real SDK, OTLP, the embedded
receiver, chDB and the analyzer job; the planted effects must be recovered and every emitted
item must be in the store.

The demo runs in this process against a fresh database of the session's in-memory engine (the
test process already owns the chDB engine); its worker processes only speak OTLP.
"""

from __future__ import annotations

import json
import math
import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from otel_impact import semconv
from otel_impact.config import load_config
from otel_impact.demo.recover import RECOVERED, recover
from otel_impact.demo.run import DemoOptions, DemoOutcome, run_demo

pytestmark = pytest.mark.slow

END = datetime(2026, 11, 20, tzinfo=UTC)


def _dsn() -> str:
    """The session's store, as in tests/conftest.py (a ClickHouse server when configured)."""
    return os.environ.get(semconv.ENV_TEST_CLICKHOUSE_DSN) or "chdb://memory"


@pytest.fixture(scope="module")
def demo(engine_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    import clickhouse_connect

    name = "t_demo_" + uuid.uuid4().hex[:10]
    out = tmp_path_factory.mktemp("demo-out")
    lines: list[str] = []
    outcome = run_demo(
        DemoOptions(users=2000, days=30, seed=3, dsn=_dsn(), database=name, out=out, end=END, llm=False),
        progress=lines.append,
    )
    client = clickhouse_connect.get_client(dsn=_dsn(), database=name)
    try:
        yield outcome, client, lines
    finally:
        engine_client.command(f"DROP DATABASE IF EXISTS {name} SYNC")


def _row(outcome: DemoOutcome, effect: str) -> Any:
    return next(r for r in outcome.rows if r.effect == effect)


def test_lag_is_recovered_exactly(demo):
    outcome, _, _ = demo
    rec = recover(outcome.result)
    assert rec.lag_days == outcome.params.truth.lag_days
    assert _row(outcome, "CTR → purchase lag").verdict == RECOVERED


def test_power_lift_excludes_zero_and_casual_lift_includes_it(demo):
    outcome, _, _ = demo
    lift = recover(outcome.result).lift
    power, casual = lift["power"], lift["casual"]
    assert power.low is not None and power.low > 0 and power.estimate > 0
    assert casual.low is not None and casual.high is not None and casual.low <= 0 <= casual.high


def test_power_users_rank_first(demo):
    outcome, _, _ = demo
    assert recover(outcome.result).tenure_order[0] == "power"


def test_breakdown_alert_within_three_days_of_the_plant(demo):
    outcome, _, _ = demo
    planted = outcome.params.start + timedelta(days=outcome.params.truth.breakdown_day)
    at = recover(outcome.result).breakdown_at
    assert at is not None and abs((at - planted).total_seconds()) <= 3 * 86400


def test_incident_is_linked_to_the_schema_change(demo):
    outcome, _, _ = demo
    truth = outcome.params.truth
    incident = recover(outcome.result).incident
    assert incident is not None and incident.cause is not None
    assert incident.cause["pipeline.name"] == truth.pipeline
    assert incident.cause["change"] == truth.schema_change_kind
    drop = outcome.params.start + timedelta(days=truth.degradation_day)
    assert incident.start is not None and abs((incident.start - drop).total_seconds()) <= 86400
    assert all(r.ok for r in outcome.rows if r.effect.startswith(("AUC", "incident")))


def test_every_emitted_item_is_in_the_store(demo):
    outcome, client, _ = demo
    c, p = outcome.counts, outcome.params
    window = {"start": p.start, "end": p.end}
    spans, weighted = client.query(
        "SELECT count(), sum(adjusted_count) FROM impact_predictions WHERE ts >= {start:DateTime64(9)} "
        "AND ts < {end:DateTime64(9)}",
        parameters=window,
    ).result_rows[0]
    assert spans == c.predictions_recorded  # sampled-out spans are not stored, all others are
    assert spans < c.predictions  # the sampling replica really dropped some
    noise = math.sqrt(c.predictions_sampling_replica * (1 - p.truth.sampled_ratio) / p.truth.sampled_ratio)
    assert abs(weighted - c.predictions) <= 4 * noise  # adjusted counts re-weight the sampled-out ones
    rows = dict(
        client.query(
            "SELECT EventName, count() FROM otel_logs WHERE Timestamp >= {start:DateTime64(9)} "
            "AND Timestamp < {end:DateTime64(9)} GROUP BY EventName",
            parameters=window,
        ).result_rows
    )
    assert rows[semconv.EVENT_ML_OUTCOME] == c.outcomes == c.predictions
    assert rows[semconv.business_event("purchase")] == c.purchases
    assert rows[semconv.business_event("subscription")] == c.subscriptions
    assert rows[semconv.EVENT_PIPELINE_RUN] + rows[semconv.EVENT_PIPELINE_INCIDENT] == c.pipeline_events
    assert outcome.reconciliation.ok


def test_each_simulated_service_has_its_own_resource(demo):
    _, client, _ = demo
    by_event = dict(
        client.query(
            "SELECT EventName, groupUniqArray(ServiceName) FROM otel_logs WHERE EventName != '' GROUP BY EventName"
        ).result_rows
    )
    assert by_event[semconv.business_event("purchase")] == ["checkout"]
    assert by_event[semconv.business_event("subscription")] == ["subscriptions"]
    assert by_event[semconv.EVENT_PIPELINE_RUN] == ["feature-pipeline"]
    assert by_event[semconv.EVENT_ML_OUTCOME] == ["recommender"]
    services = {r[0] for r in client.query("SELECT DISTINCT ServiceName FROM otel_traces").result_rows}
    assert services == {"recommender"}


def test_results_are_exported_back_through_otlp(demo):
    _, client, _ = demo
    points = client.query(
        "SELECT count() FROM otel_metrics_gauge WHERE startsWith(MetricName, {p:String})",
        parameters={"p": semconv.IMPACT_PREFIX},
    ).result_rows[0][0]
    assert points > 0


def test_outputs_are_written_and_reusable(demo):
    outcome, _, lines = demo
    out = outcome.paths["results"].parent
    doc = json.loads((out / "results.json").read_text())
    assert doc["demo"]["planted"]["lag_days"] == 2
    assert [r["verdict"] for r in doc["demo"]["planted_vs_recovered"]] == [r.verdict for r in outcome.rows]
    assert {"correlations", "lift", "incidents", "alerts"} <= set(doc)
    cfg = load_config(out / "impact.yaml")  # the written config is valid for the real config model
    assert [m.name for m in cfg.business_metrics] == ["purchase", "subscription"]
    html = (out / "report.html").read_text()
    md = (out / "report.md").read_text()
    assert "planted vs recovered" in html and "planted vs recovered" in md
    assert any("reconcile" in line or "emitted" in line for line in lines)


def test_clean_telemetry_passes_the_tracking_plan(demo):
    outcome, _, _ = demo
    plan = outcome.result["tracking_plan"]
    assert plan["ok"] and plan["plan_problems"] == []
    assert not any(s["exceeded"] for s in plan["summary"].values())
    live = {e["name"]: e for e in plan["entries"]}
    for event in (
        semconv.business_event("purchase"),
        semconv.business_event("subscription"),
        semconv.EVENT_ML_OUTCOME,
        semconv.EVENT_PIPELINE_RUN,
    ):
        assert live[event]["live"] and live[event]["rows"] > 0
    spans = [e for e in plan["entries"] if e["source"] == "span"]
    assert len(spans) == 1 and spans[0]["rows"] == outcome.counts.predictions_recorded


def test_deployment_trail_shows_the_planted_rollout(demo):
    outcome, _, _ = demo
    p = outcome.params
    (model,) = [m for m in outcome.result["deployments"]["models"] if m["model"] == p.truth.model]
    assert sorted(v["version"] for v in model["versions"]) == ["v1", "v2"]
    rollout = model["rollout"]
    assert rollout["version"] == "v2"
    start = datetime.fromisoformat(rollout["rollout_start"].replace("Z", "+00:00"))
    planted = p.start + timedelta(days=p.truth.rollout_day)
    assert abs((start - planted).total_seconds()) <= 86400


def test_configured_slos_are_measured(demo):
    outcome, _, _ = demo
    slos = {s["name"]: s for s in outcome.result["slos"]}
    configured = load_config(outcome.paths["config"]).slos
    assert set(slos) == {s.name for s in configured.models} | {s.name for s in configured.pipelines}
    assert all(s["n"] > 0 and 0 <= s["estimate"] <= 1 for s in slos.values())
    assert slos["ranker-errors"]["estimate"] == 1.0  # the simulator serves no errors
    assert slos["features-daily-success"]["estimate"] == 1.0  # the schema-change run succeeded
    # the unrelated pipeline's one planted failure in 30 daily runs spends part of its budget
    crm = slos["crm-sync-success"]
    assert crm["estimate"] == pytest.approx(1 - 1 / outcome.params.days)
    assert 0 < crm["budget_remaining"] < 1
