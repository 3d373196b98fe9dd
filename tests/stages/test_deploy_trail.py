"""Deployment audit trail: a simulated v1 → v2 rollout (10 % → 50 % → 100 %) from prediction spans."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from contract_data import BASE, HOUR, at, insert_events, insert_spans

from otel_impact import semconv
from otel_impact.analyze.deployments import newest_version, rollout_index, rollout_phases, traffic_shares
from otel_impact.config.loader import config_from_dict
from otel_impact.context import JobContext, Window
from otel_impact.stages.deployments import DEPLOYMENTS, ROLLOUT_KEY, kpi_rollout
from otel_impact.stages.graph import run_guarded

# v2 takes 10 % at 10:20, 50 % at 20:40 and everything from 32:00 (hours after BASE)
SWITCHES = [(0.0, 0.0), (10 * HOUR + 1200, 0.1), (20 * HOUR + 2400, 0.5), (32 * HOUR, 1.0)]
WINDOW = Window(BASE, BASE + timedelta(hours=48))


def v2_share(t: float) -> float:
    return [share for start, share in SWITCHES if t >= start][-1]


def rollout_spans() -> list[tuple[float, dict[str, str]]]:
    """One request every 18 s; v1 is sampled at 50 % (adjusted count 2), v2 kept in full."""
    spans = []
    for i in range(int(48 * HOUR / 18)):
        t = i * 18.0
        is_v2 = (i * 0.6180339887) % 1.0 < v2_share(t)
        if not is_v2 and i % 2:
            continue  # dropped by the sampler
        attrs = {semconv.ML_MODEL_NAME: "recommender", semconv.ML_MODEL_VERSION: "v2" if is_v2 else "v1"}
        if not is_v2:
            attrs[semconv.SAMPLING_ADJUSTED_COUNT] = "2"
        spans.append((t, attrs))
    return spans


def run_stage(client: Any, extra: dict[str, Any] | None = None) -> JobContext:
    ctx = JobContext(client=client, config=config_from_dict(extra or {}), window=WINDOW)
    run_guarded(DEPLOYMENTS, ctx)  # reads and writes only what it declares
    return ctx


@pytest.fixture()
def rollout_store(store: Any) -> Any:
    insert_spans(store, rollout_spans())
    return store


def test_phase_boundaries_and_traffic_shares(rollout_store: Any) -> None:
    ctx = run_stage(rollout_store)
    (trail,) = ctx.result["deployments"]["models"]
    phases = trail["phases"]
    assert len(phases) == 4
    expected = [BASE, at(SWITCHES[1][0]), at(SWITCHES[2][0]), at(SWITCHES[3][0])]
    for phase, want in zip(phases, expected, strict=True):
        assert abs((phase["start"] - want).total_seconds()) <= HOUR  # ± one bucket
    for phase, (_, share) in zip(phases, SWITCHES, strict=True):
        assert phase["shares"]["v2"] == pytest.approx(share, abs=0.03)
    # adjusted counts: v1's sampled spans count twice, so traffic is ~200 per hour throughout
    totals = np.asarray(trail["traffic"]["totals"])
    assert np.all(np.abs(totals - 200) <= 12)
    assert trail["traffic"]["shares"]["v2"][40] == pytest.approx(1.0)
    versions = {v["version"]: v for v in trail["versions"]}
    assert [v["version"] for v in trail["versions"]] == ["v1", "v2"]
    assert abs((versions["v2"]["first_seen"] - at(SWITCHES[1][0])).total_seconds()) < 60
    assert 0 < (at(SWITCHES[3][0]) - versions["v1"]["last_seen"]).total_seconds() < 300
    rollout = trail["rollout"]
    assert rollout["version"] == "v2" and rollout["source"] == "phases"
    assert abs((rollout["majority"] - at(SWITCHES[2][0])).total_seconds()) <= HOUR
    assert abs((rollout["complete"] - at(SWITCHES[3][0])).total_seconds()) <= HOUR


def test_kpi_rollout_defaults_from_the_trail(rollout_store: Any) -> None:
    ctx = run_stage(rollout_store)
    derived = kpi_rollout(ctx)
    assert ctx.config.kpi.rollout is None  # the config is never rewritten: the stage gives the time
    assert derived is not None and derived == ctx.cache[ROLLOUT_KEY]
    assert abs((derived - at(SWITCHES[1][0])).total_seconds()) <= HOUR
    assert ctx.result["deployments"]["kpi_rollout"]["applied"] is True
    majority = run_stage(rollout_store, {"deployments": {"kpi_boundary": "majority"}})
    assert abs((kpi_rollout(majority) - at(SWITCHES[2][0])).total_seconds()) <= HOUR
    explicit = run_stage(rollout_store, {"kpi": {"rollout": "2026-11-01T05:00:00Z"}})
    assert kpi_rollout(explicit) == at(5 * HOUR) and ROLLOUT_KEY not in explicit.cache
    assert explicit.result["deployments"]["kpi_rollout"]["applied"] is False


def test_deployment_event_gives_the_exact_rollout_start(rollout_store: Any) -> None:
    event = {
        semconv.ML_MODEL_NAME: "recommender",
        semconv.ML_MODEL_VERSION: "v2",
        semconv.ML_DEPLOYMENT_TRAFFIC: "0.1",
    }
    insert_events(rollout_store, [(SWITCHES[1][0], semconv.EVENT_ML_DEPLOYMENT, event)])
    ctx = run_stage(rollout_store)
    (trail,) = ctx.result["deployments"]["models"]
    assert trail["rollout"]["rollout_start"] == at(SWITCHES[1][0])
    assert trail["rollout"]["source"] == "event"
    assert ctx.result["deployments"]["events"][0]["traffic_share"] == 0.1
    assert kpi_rollout(ctx) == at(SWITCHES[1][0])


def test_single_version_has_no_rollout(store: Any) -> None:
    insert_spans(
        store, [(i * 60.0, {semconv.ML_MODEL_NAME: "m", semconv.ML_MODEL_VERSION: "v1"}) for i in range(100)]
    )
    ctx = run_stage(store)
    (trail,) = ctx.result["deployments"]["models"]
    assert trail["rollout"] is None and len(trail["phases"]) == 1
    assert kpi_rollout(ctx) is None and ctx.result["deployments"]["kpi_rollout"] is None


def test_empty_store_gives_an_empty_trail(store: Any) -> None:
    assert run_stage(store).result["deployments"]["models"] == []


def test_pure_helpers_validate_and_handle_thin_data() -> None:
    with pytest.raises(ValueError, match="counts"):
        traffic_shares([1, 2, 3])
    with pytest.raises(ValueError, match="non-negative"):
        traffic_shares([[1, -1]])
    with pytest.raises(ValueError, match="tolerance"):
        rollout_phases([[1.0]], [[1]], tolerance=0)
    with pytest.raises(ValueError, match="min_buckets"):
        rollout_phases([[1.0]], [[1]], min_buckets=0)
    with pytest.raises(ValueError, match="boundary"):
        rollout_index([], 0, boundary="halfway")
    assert rollout_phases(np.zeros((3, 2)), np.zeros((3, 2))) == []
    assert newest_version([1.0]) is None
    # a bucket without traffic joins the phase around it; a one-bucket blip is not a phase
    counts = [[100, 0], [0, 0], [100, 0], [40, 60], [100, 0], [100, 0]]
    assert [(p.start, p.end) for p in rollout_phases(traffic_shares(counts), counts)] == [(0, 6)]
    # a switch halfway through a bucket moves the boundary by at most one bucket
    counts = [[100, 0]] * 4 + [[70, 30]] + [[40, 60]] * 4
    assert [p.start for p in rollout_phases(traffic_shares(counts), counts)] in ([0, 4], [0, 5])
