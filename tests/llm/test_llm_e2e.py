"""End to end: the real ``openai`` client traced by the real ``opentelemetry-instrumentation-openai-v2``
against a local OpenAI-compatible stub, exporting OTLP to the embedded receiver, plus
``gen_ai.evaluation.result`` and business events — and no otel_impact API call in the service.

The analyzer must attribute purchases to prompt versions, recover the planted lift of prompt v2
over v1 (arms from the OpenFeature flag's evaluations), the planted evaluation-score →
purchase lag, and a cost per outcome equal to a hand computation from the stub's token counts.
The same analysis over the same rows stored in the exporter's JSON layout must be identical.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from json_layout import copy_to_json_layout
from llm_harness import START, Run, config, support_run, window

from otel_impact import semconv
from otel_impact.demo.llm_demo import PRICES
from otel_impact.demo.llm_service import EVALUATOR, MODEL, SupportPlan
from otel_impact.demo.llm_stub import RESPONSE_MODEL_SUFFIX
from otel_impact.export.points import result_points
from otel_impact.pipeline import Window, analyze
from otel_impact.records import Result
from otel_impact.store import apply_schema
from otel_impact.store.backfill import backfill

PLAN = SupportPlan(start=START, days=24, users_per_day=20)  # v1 converts 30 %, v2 45 %, lag 2 days
PLANTED_LIFT = PLAN.conversion[1] / PLAN.conversion[0] - 1.0
RESPONSE_MODEL = MODEL + RESPONSE_MODEL_SUFFIX


@pytest.fixture(scope="module")
def run(engine_client: Any) -> Iterator[Run]:
    with support_run(engine_client, "openai-v2", PLAN) as r:
        yield r


@pytest.fixture(scope="module")
def result(run: Run) -> dict[str, Any]:
    return analyze(run.client, config(PLAN), Window(*window(PLAN)), seed=3).to_json()


def _purchases_in_window(run: Run) -> dict[str, int]:
    end = PLAN.start + timedelta(days=PLAN.days)
    out = {"v1": 0, "v2": 0}
    for user, at in run.truth.purchases:
        if at < end:
            out[run.truth.variant_of[user]] += 1
    return out


def _hand_cost(run: Run, variant: str) -> float:
    """Σ over the stub's answers to ``variant`` chats: (prompt × input price + completion × output price) / 1e6."""
    return sum(
        (s.prompt_tokens * PRICES["input"] + s.completion_tokens * PRICES["output"]) / 1e6
        for s in run.served
        if run.truth.response_variant[s.response_id] == variant
    )


def test_every_llm_call_is_a_prediction_and_the_request_span_is_not(run: Run) -> None:
    rows = run.client.query(
        "SELECT source, model_name, model_version, count(), countIf(user_id != ''), sum(input_tokens),"
        " sum(output_tokens), countIf(is_error = 1) FROM impact_predictions GROUP BY ALL ORDER BY ALL"
    ).result_rows
    spans = run.client.command("SELECT count() FROM otel_traces")
    served = {
        v: [s for s in run.served if run.truth.response_variant[s.response_id] == v] for v in ("v1", "v2")
    }
    assert rows == [
        (
            "gen_ai",
            RESPONSE_MODEL,
            f"support-{v}",
            len(served[v]),
            len(served[v]),
            sum(s.prompt_tokens for s in served[v]),
            sum(s.completion_tokens for s in served[v]),
            0,
        )
        for v in ("v1", "v2")
    ]
    assert spans == 2 * len(run.served)  # the "POST /support" request spans are ignored


def test_outcomes_are_attributed_to_prompt_versions(run: Run, result: dict[str, Any]) -> None:
    credit = {
        r[semconv.ML_MODEL_VERSION]: r["credit"]
        for r in result["attribution"]
        if r["model"] == "last_touch" and not r["segment"]
    }
    hand = _purchases_in_window(run)
    assert credit == {"support-v1": hand["v1"], "support-v2": hand["v2"]}


def test_lift_of_prompt_v2_from_the_flag_evaluations(run: Run, result: dict[str, Any]) -> None:
    (row,) = [r for r in result["lift"] if not r["segment"]]
    assert row["flag"] == "support-prompt"
    assert row["ci"][0] > 0 and row["pvalue"] < 0.05
    assert row["ci"][0] <= PLANTED_LIFT <= row["ci"][1]
    users = {"v1": 0, "v2": 0}
    for variant in run.truth.variant_of.values():
        users[variant] += 1
    assert row["n_treatment"] == users["v2"] and row["n_control"] == users["v1"]
    assert row["srm"]["observed"] == [users["v2"], users["v1"]] and not row["srm"]["mismatch"]


def test_evaluation_score_leads_purchases_by_the_planted_lag(result: dict[str, Any]) -> None:
    (row,) = [
        r
        for r in result["correlations"]
        if r["model_metric"] == f"evaluation.{EVALUATOR}" and not r["segment"] and r["method"] == "pearson"
    ]
    assert row["lag_buckets"] == PLAN.lag_days
    assert row["ci"][0] > 0.3


def test_cost_per_outcome_equals_the_hand_computation(run: Run, result: dict[str, Any]) -> None:
    hand = _purchases_in_window(run)
    rows = {r[semconv.ML_MODEL_VERSION]: r for r in result["cost"] if not r["segment"]}
    for variant in ("v1", "v2"):
        row = rows[f"support-{variant}"]
        cost = _hand_cost(run, variant)
        assert row["cost"] == pytest.approx(cost, rel=1e-12)
        assert row["outcomes"] == hand[variant]
        assert row["cost_per_outcome"] == pytest.approx(cost / hand[variant], rel=1e-12)
        assert row["cost_per_value"] == pytest.approx(cost / hand[variant], rel=1e-12)  # value: count
    everything = rows[None]
    assert everything["cost"] == pytest.approx(_hand_cost(run, "v1") + _hand_cost(run, "v2"), rel=1e-12)
    (roi,) = result["roi"]
    assert roi["llm_cost"] == pytest.approx(_hand_cost(run, "v2"), rel=1e-12)  # in the treatment's ROI
    points = result_points(Result.from_json(result), run_id="r")
    per_outcome = {
        p.attributes.get(semconv.ML_MODEL_VERSION): p.value
        for p in points
        if p.name == semconv.METRIC_IMPACT_COST_PER_OUTCOME
        and p.attributes[semconv.IMPACT_SEGMENT_KEY] == "all"
    }
    assert per_outcome["support-v2"] == pytest.approx(_hand_cost(run, "v2") / hand["v2"], rel=1e-12)


def test_json_attribute_layout_gives_the_same_analysis(
    engine_client: Any, run: Run, result: dict[str, Any]
) -> None:
    import clickhouse_connect

    from tests.conftest import _dsn

    name = "t_llm_json_" + uuid.uuid4().hex[:8]
    engine_client.command(f"CREATE DATABASE {name}")
    try:
        client = clickhouse_connect.get_client(dsn=_dsn(), database=name)
        copy_to_json_layout(run.client, client)
        applied = apply_schema(client, database=name)
        assert {"otel_traces", "otel_logs"} <= set(applied.present)
        # the rows predate the typed tables' materialized views: the documented backfill
        assert set(applied.backfill) == {semconv.TABLE_PREDICTIONS_TYPED, semconv.TABLE_EVENTS_TYPED}
        backfill(client)
        assert client.command(
            "SELECT type FROM system.columns WHERE database = currentDatabase() AND table = 'otel_traces'"
            " AND name = 'SpanAttributes'"
        ).startswith("JSON")
        again = analyze(client, config(PLAN), Window(*window(PLAN)), seed=3).to_json()
    finally:
        engine_client.command(f"DROP DATABASE IF EXISTS {name} SYNC")
    _assert_same(again, result)


def _assert_same(a: Any, b: Any, path: str = "result") -> None:
    """Equal documents, floats up to summation order (the layouts store rows in different orders)."""
    if isinstance(a, float) and isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12), path
    elif isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            _assert_same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, y, f"{path}[{i}]")
    else:
        assert a == b, path


def test_report_section_shows_cost_per_outcome(run: Run, result: dict[str, Any]) -> None:
    from otel_impact.report.markdown import render_markdown

    text = render_markdown(Result.from_json(result))
    section = text[text.index("LLM cost per business outcome") :]
    hand = _purchases_in_window(run)
    cheapest = min(("v1", "v2"), key=lambda v: _hand_cost(run, v) / hand[v])
    assert f"cheapest per outcome is {RESPONSE_MODEL} version support-{cheapest}" in section
    assert "support-v1" in section and "support-v2" in section


def test_demo_verdicts_agree_with_the_checks_above(run: Run, result: dict[str, Any]) -> None:
    from otel_impact.demo.llm_demo import verdicts

    assert [v.ok for v in verdicts(Result.from_json(result), PLAN, run.truth, run.served)] == [True] * 4
