"""Resources stage: CPU and memory of model services from OTel process metrics, priced."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from contract_data import BASE, at, insert_spans

from otel_impact import semconv
from otel_impact.config.loader import config_from_dict
from otel_impact.context import JobContext, Window
from otel_impact.stages.graph import run_guarded
from otel_impact.stages.resources import COMPUTE_COST_KEY, RESOURCES, compute_cost

WINDOW = Window(BASE, BASE + timedelta(hours=1))
GIB = 2.0**30


def load(store: Any) -> None:
    rows = []
    for minute in range(0, 60, 10):  # cumulative CPU seconds per mode, memory as an up-down sum
        t = at(minute * 60.0)
        rows.append(
            ["recsys", "process.cpu.time", {"cpu.mode": "user"}, t, 100.0 + 1.2 * minute * 60 / 50, 2]
        )
        rows.append(
            ["recsys", "process.cpu.time", {"cpu.mode": "system"}, t, 10.0 + 0.6 * minute * 60 / 50, 2]
        )
        rows.append(["recsys", "process.memory.usage", {}, t, 2 * GIB, 2])
        rows.append(
            ["other", "process.cpu.time", {"cpu.mode": "user"}, t, float(minute), 2]
        )  # serves no model
    rows.append(["recsys", "process.cpu.time", {"cpu.mode": "user"}, at(-600.0), 0.0, 2])  # before the window
    store.insert(
        semconv.TABLE_METRICS_SUM,
        rows,
        column_names=[
            "ServiceName",
            "MetricName",
            "Attributes",
            "TimeUnix",
            "Value",
            "AggregationTemporality",
        ],
    )
    spans = [
        (i * 10.0, {semconv.ML_MODEL_NAME: "rec" if i % 4 else "alt", semconv.ML_MODEL_VERSION: "1"})
        for i in range(360)
    ]
    insert_spans(store, spans, service="recsys")


def run_stage(store: Any, extra: dict[str, Any]) -> JobContext:
    ctx = JobContext(client=store, config=config_from_dict(extra), window=WINDOW)
    run_guarded(RESOURCES, ctx)  # reads and writes only what it declares
    return ctx


def test_cpu_and_memory_per_model_service_and_roi_cost(store: Any) -> None:
    load(store)
    ctx = run_stage(store, {"resources": {"cpu_hour_cost": 3.6, "memory_gib_hour_cost": 0.5}})
    rows = {r[semconv.ML_MODEL_NAME]: r for r in ctx.result["resources"]}
    assert set(rows) == {"rec", "alt"}
    cpu_total = (1.2 + 0.6) * 50 * 60 / 50  # user + system increase over minutes 0..50
    assert rows["rec"]["share"] == pytest.approx(0.75)
    assert rows["rec"]["cpu_seconds"] == pytest.approx(0.75 * cpu_total)
    assert rows["alt"]["memory_gib_mean"] == pytest.approx(0.25 * 2.0)
    assert rows["rec"]["cpu_cost"] == pytest.approx(0.75 * cpu_total / 3600 * 3.6)
    assert rows["rec"]["memory_cost"] == pytest.approx(0.75 * 2.0 * 1.0 * 0.5)
    total = sum(r["cost"] for r in rows.values())
    assert total == pytest.approx(cpu_total / 3600 * 3.6 + 2.0 * 0.5)
    assert ctx.config.roi.compute_cost == 0  # the config is never rewritten: the stage gives the cost
    assert compute_cost(ctx) == pytest.approx(total) == ctx.cache[COMPUTE_COST_KEY]
    assert rows["rec"]["cost_per_1k_predictions"] == pytest.approx(rows["rec"]["cost"] / 270 * 1000)


def test_explicit_compute_cost_and_unpriced_usage_are_kept(store: Any) -> None:
    load(store)
    ctx = run_stage(store, {"roi": {"compute_cost": 7.0}, "resources": {"cpu_hour_cost": 1.0}})
    assert compute_cost(ctx) == 7.0 and COMPUTE_COST_KEY not in ctx.cache
    unpriced = run_stage(store, {})
    assert compute_cost(unpriced) == 0.0
    assert {r[semconv.ML_MODEL_NAME] for r in unpriced.result["resources"]} == {"rec", "alt"}


def test_no_process_metrics_writes_nothing(store: Any) -> None:
    assert "resources" not in run_stage(store, {}).result
