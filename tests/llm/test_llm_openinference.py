"""End to end with OpenInference's ``openinference-instrumentation-openai`` instead of openai-v2.

Its spans carry ``llm.model_name``, ``llm.token_count.*``, ``llm.prompt_template.version`` (from
``using_prompt_template``) and ``user.id`` / ``session.id`` (from ``using_attributes``), and no
``gen_ai.response.id``: evaluations join through the id of the raw response it records.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from llm_harness import START, Run, config, support_run, window

from otel_impact import semconv
from otel_impact.demo.llm_demo import PRICES
from otel_impact.demo.llm_service import EVALUATOR, SupportPlan
from otel_impact.pipeline import Window, analyze
from otel_impact.store.llm import evaluation_series

PLAN = SupportPlan(start=START, days=10, users_per_day=8, seed=11)


@pytest.fixture(scope="module")
def run(engine_client: Any) -> Iterator[Run]:
    with support_run(engine_client, "openinference", PLAN) as r:
        yield r


def test_openinference_spans_are_predictions_with_prompt_versions(run: Run) -> None:
    rows = run.client.query(
        "SELECT model_version, count(), countIf(user_id LIKE 'user-%'), countIf(session_id LIKE 'chat-%'),"
        " countIf(prediction_id LIKE 'chatcmpl-%') FROM impact_predictions WHERE source = 'openinference'"
        " GROUP BY model_version ORDER BY model_version"
    ).result_rows
    calls = {v: sum(1 for x in run.truth.response_variant.values() if x == v) for v in ("v1", "v2")}
    assert rows == [(v, calls[v], calls[v], calls[v], calls[v]) for v in ("v1", "v2")]


def test_evaluations_join_through_the_recorded_response_and_cost_per_outcome_is_exact(run: Run) -> None:
    cfg = config(PLAN, lift={"enabled": False}, correlation={"enabled": False})
    win = Window(*window(PLAN))
    evals = evaluation_series(run.client, cfg, win, 86400.0)
    everyone = (
        (evals["segment_key"] == "") & (evals["model_version"] == "") & (evals["evaluator"] == EVALUATOR)
    )
    assert evals["evaluated"][everyone].sum() == run.truth.evaluations
    result = analyze(run.client, cfg, win).to_json()
    end = PLAN.start + timedelta(days=PLAN.days)
    for variant in ("v1", "v2"):
        cost = sum(
            (s.prompt_tokens * PRICES["input"] + s.completion_tokens * PRICES["output"]) / 1e6
            for s in run.served
            if run.truth.response_variant[s.response_id] == variant
        )
        bought = sum(1 for u, at in run.truth.purchases if at < end and run.truth.variant_of[u] == variant)
        (row,) = [r for r in result["cost"] if r[semconv.ML_MODEL_VERSION] == variant and not r["segment"]]
        assert row["cost"] == pytest.approx(cost, rel=1e-12)
        assert row["outcomes"] == bought
        assert row["cost_per_outcome"] == pytest.approx(cost / bought, rel=1e-12)
