"""SLO stage over stored prediction spans and pipeline runs: planted burns alert, quiet ones don't."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from contract_data import BASE, HOUR, at, insert_events, insert_spans

from otel_impact import semconv
from otel_impact.config.loader import config_from_dict
from otel_impact.pipeline import JobContext, Window

WINDOW = Window(BASE, BASE + timedelta(days=1))
SLOS = {
    "burn_windows": [
        {"long": "1h", "short": "5m", "factor": 14.4},
        {"long": "6h", "short": "30m", "factor": 6},
    ],
    "models": [
        {"name": "rec-latency", "model": "rec", "sli": "latency", "objective": 0.999, "threshold_ms": 100},
        {"name": "rec-errors", "model": "rec", "sli": "error_rate", "objective": 0.999},
    ],
    "pipelines": [
        {
            "name": "features-fresh",
            "pipeline": "features",
            "sli": "freshness",
            "objective": 0.99,
            "max_age": "1h",
        },
        {"name": "features-runs", "pipeline": "features", "sli": "success_rate", "objective": 0.9},
    ],
}


def run_stage(client: Any) -> JobContext:
    from otel_impact.stages.slo import run

    ctx = JobContext(client=client, config=config_from_dict({"slos": SLOS}), window=WINDOW)
    run(ctx)
    return ctx


@pytest.fixture()
def slo_store(store: Any) -> Any:
    spans = []
    for i in range(int(25 * HOUR / 30)):  # one prediction every 30 s from 1 h before the window
        t = -HOUR + i * 30.0
        slow = 12 * HOUR <= t < 12.5 * HOUR or i % 2000 == 0  # planted fast burn 12:00–12:30
        attrs = {semconv.ML_MODEL_NAME: "rec", semconv.ML_MODEL_VERSION: "v1", "_ms": "500" if slow else "20"}
        if i % 1000 == 7:
            attrs["_error"] = "1"
        spans.append((t, attrs))
    insert_spans(store, spans)
    runs = []
    for k in range(-4, 48):  # every 30 min from 2 h before the window; failing 06:00–10:00
        t = k * 1800.0
        status = "failed" if 6 * HOUR <= t < 10 * HOUR else "success"
        runs.append(
            (
                t,
                semconv.EVENT_PIPELINE_RUN,
                {semconv.PIPELINE_NAME: "features", semconv.PIPELINE_STATUS: status},
            )
        )
    insert_events(store, runs)
    return store


def test_slo_stage_finds_planted_burns(slo_store: Any) -> None:
    ctx = run_stage(slo_store)
    rows = {r["name"]: r for r in ctx.result["slos"]}
    latency = rows["rec-latency"]
    firing = [a for a in latency["alerts"] if a["state"] == "firing" and a["window"] == "1h/5m"]
    assert len(firing) == 1
    assert at(12 * HOUR) <= firing[0]["at"] <= at(12 * HOUR + 300)
    assert latency["estimate"] == pytest.approx(1 - 60 / 2880, abs=1e-3)
    assert latency[semconv.ML_MODEL_NAME] == "rec" and latency["n"] == 2880
    # 2 errors in 2880 predictions is within a 0.1 % budget: no alert
    assert rows["rec-errors"]["alerts"] == []
    assert rows["rec-errors"]["estimate"] == pytest.approx(1 - 2 / 2880, abs=1e-9)
    fresh = rows["features-fresh"]
    # last good run 05:30, stale from 06:30 until the 10:00 run: 3.5 h of 24 h bad
    assert fresh["estimate"] == pytest.approx(1 - 3.5 / 24, abs=1 / 1440)
    fresh_fire = [a for a in fresh["alerts"] if a["state"] == "firing" and a["window"] == "1h/5m"]
    assert fresh_fire and at(6.5 * HOUR) < fresh_fire[0]["at"] <= at(6.5 * HOUR + 600)
    assert rows["features-runs"]["estimate"] == pytest.approx(40 / 48)
    assert rows["features-runs"]["budget_consumed"] == pytest.approx((8 / 48) / 0.1 / 30)
    slo_alerts = [a for a in ctx.result["alerts"] if a.rule == "slo_burn_rate"]
    # one job alert per SLO episode (its most severe pair named), not one per burn-window pair
    burning = {n for n, r in rows.items() if r["alerts"]}
    assert {a.attributes[semconv.IMPACT_SLO_NAME] for a in slo_alerts if a.state == "firing"} == burning
    assert len(slo_alerts) < sum(len(r["alerts"]) for r in rows.values())
    assert all(a.severity == "critical" for a in slo_alerts if a.state == "firing")


def _freshness_only(client: Any) -> JobContext:
    from otel_impact.stages.slo import run

    slos = {**SLOS, "models": [], "pipelines": [SLOS["pipelines"][0]]}
    ctx = JobContext(client=client, config=config_from_dict({"slos": slos}), window=WINDOW)
    run(ctx)
    return ctx


def test_no_freshness_burn_before_the_first_run_in_history(store: Any) -> None:
    """A pipeline first seen at 09:00 is not 'stale' before then: those steps are unknown."""
    run = {semconv.PIPELINE_NAME: "features", semconv.PIPELINE_STATUS: "success"}
    insert_events(store, [(9 * HOUR + k * 1800.0, semconv.EVENT_PIPELINE_RUN, run) for k in range(30)])
    ctx = _freshness_only(store)
    assert [a for a in ctx.result["alerts"] if a["rule"] == "slo_burn_rate"] == []
    assert ctx.result["slos"][0]["estimate"] == pytest.approx(1.0)
    assert any("no data before" in w for w in ctx.warnings)


def test_last_run_before_the_lead_in_keeps_the_pipeline_fresh(store: Any) -> None:
    """The last success long before the window (beyond every burn window) is found by looking
    back; the pipeline is fresh at the start and goes stale only when max_age has passed."""
    run = {semconv.PIPELINE_NAME: "features", semconv.PIPELINE_STATUS: "success"}
    runs = [(-10 * 86400.0, semconv.EVENT_PIPELINE_RUN, run)]  # 10 days before: the whole grid is stale
    runs += [(-3.9 * 86400.0 + k * 1800.0, semconv.EVENT_PIPELINE_RUN, run) for k in range(196)]
    insert_events(store, runs)
    ctx = _freshness_only(store)
    # runs every 30 min until 4 h into the window: fresh from the start, stale from 05:00
    firing = [a for a in ctx.result["alerts"] if a.rule == "slo_burn_rate" and a.state == "firing"]
    assert len(firing) == 1 and firing[0].at > at(5 * HOUR)


def test_no_slos_configured_is_a_no_op(store: Any) -> None:
    from otel_impact.stages.slo import run

    ctx = JobContext(client=store, config=config_from_dict({}), window=WINDOW)
    run(ctx)
    assert "slos" not in ctx.result


def test_slo_config_errors_name_the_path() -> None:
    from otel_impact.errors import ConfigError

    with pytest.raises(ConfigError, match=r"slos\.models\[0\]"):
        config_from_dict(
            {"slos": {"models": [{"name": "x", "model": "m", "sli": "latency", "objective": 0.99}]}}
        )
    with pytest.raises(ConfigError, match=r"slos\.burn_windows\[0\]"):
        config_from_dict({"slos": {"burn_windows": [{"long": "5m", "short": "1h", "factor": 2}]}})
    with pytest.raises(ConfigError, match="unique"):
        one = {"name": "x", "model": "m", "sli": "error_rate", "objective": 0.99}
        config_from_dict({"slos": {"models": [one, one]}})
