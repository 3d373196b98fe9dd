"""Which spans are LLM predictions, under which names, and how evaluations and flags join them.

Spans are written with the OTel SDK the way instrumentations of different vintages write them
(GenAI conventions new and old, OpenLLMetry, OpenInference) and go through OTLP and the
embedded receiver into the store; the views must read each spelling and ignore everything else.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from llm_harness import otlp_into
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from otel_impact import semconv as sc
from otel_impact.config.model import ImpactConfig
from otel_impact.demo.llm_stub import FAIL_MARKER, LlmStub
from otel_impact.errors import ConfigError
from otel_impact.pipeline import Window
from otel_impact.store.llm import (
    evaluation_series,
    read_version_attributes,
    usage_series,
    write_version_attributes,
)

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


def _ns(at: datetime) -> int:
    return int((at - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1)) * 1000


def _span(tracer: Any, name: str, attrs: dict[str, Any], at: datetime, *, error: bool = False) -> Any:
    span = tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attrs, start_time=_ns(at))
    if error:
        span.set_status(Status(StatusCode.ERROR, "boom"))
    span.end(end_time=_ns(at) + 1_500_000)
    return span


NEW = {  # GenAI conventions as of the semantic-conventions-genai repository
    sc.GEN_AI_OPERATION_NAME: "chat",
    sc.GEN_AI_PROVIDER_NAME: "openai",
    sc.GEN_AI_REQUEST_MODEL: "gpt-4o",
    sc.GEN_AI_RESPONSE_MODEL: "gpt-4o-2024-08-06",
    sc.GEN_AI_RESPONSE_ID: "resp-new",
    sc.GEN_AI_USAGE_INPUT_TOKENS: 120,
    sc.GEN_AI_USAGE_OUTPUT_TOKENS: 30,
    sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 100,
    sc.GEN_AI_AGENT_VERSION: "agent-7",
    sc.GEN_AI_CONVERSATION_ID: "conv-1",
    sc.USER_ID: "u1",
    sc.segment_attribute("plan"): "pro",
    sc.ML_PREDICTION_SCORE: 0.9,  # a classifier-style prompt that also reports a score
}
OLD = {  # older spellings: gen_ai.system, prompt/completion tokens, OpenLLMetry's request type
    sc.LLM_REQUEST_TYPE: "chat",
    sc.GEN_AI_SYSTEM: "openai",
    sc.GEN_AI_REQUEST_MODEL: "gpt-3.5-turbo",
    sc.GEN_AI_USAGE_PROMPT_TOKENS: 50,
    sc.GEN_AI_USAGE_COMPLETION_TOKENS: 10,
    sc.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS_OLD: 20,
    sc.GEN_AI_PROMPT_NAME: "faq@3",
    sc.ENDUSER_ID: "u2",
    sc.SAMPLING_ADJUSTED_COUNT: 4.0,
}
OPENINFERENCE = {
    sc.OPENINFERENCE_SPAN_KIND: "LLM",
    sc.LLM_MODEL_NAME: "claude-sonnet",
    sc.LLM_PROVIDER: "anthropic",
    sc.LLM_TOKEN_COUNT_PROMPT: 70,
    sc.LLM_TOKEN_COUNT_COMPLETION: 7,
    sc.LLM_COST_TOTAL: 0.25,
    sc.LLM_PROMPT_TEMPLATE_VERSION: "t2",
    sc.USER_ID: "u3",
}
IGNORED = [  # none of these is an inference: never a prediction, never an error
    {sc.GEN_AI_OPERATION_NAME: "embeddings", sc.GEN_AI_REQUEST_MODEL: "text-embedding-3-small"},
    {sc.GEN_AI_OPERATION_NAME: "execute_tool", sc.GEN_AI_REQUEST_MODEL: "gpt-4o"},
    {sc.GEN_AI_OPERATION_NAME: "chat"},  # no model at all
    {sc.OPENINFERENCE_SPAN_KIND: "CHAIN", sc.LLM_MODEL_NAME: "gpt-4o"},
    {sc.OPENINFERENCE_SPAN_KIND: "LLM"},
    {"http.request.method": "POST", "gen_ai.usage.input_tokens": "lots"},
]


def _rows(client: Any, sql: str) -> list[dict[str, Any]]:
    res = client.query(sql)
    return [dict(zip(res.column_names, r, strict=True)) for r in res.result_rows]


@pytest.fixture(scope="module")
def spans(engine_client: Any) -> Iterator[Any]:
    """One database for the module (emitting is the slow part); tests only read it, or restore it."""
    import clickhouse_connect

    from otel_impact.store import apply_schema
    from tests.conftest import _dsn

    name = "t_llm_map_" + uuid.uuid4().hex[:8]
    engine_client.command(f"CREATE DATABASE {name}")
    store = clickhouse_connect.get_client(dsn=_dsn(), database=name)
    apply_schema(store, database=name)
    try:
        yield _emit(store)
    finally:
        engine_client.command(f"DROP DATABASE IF EXISTS {name} SYNC")


def _emit(store: Any) -> Any:
    with otlp_into(store) as (tp, lp):
        tracer = tp.get_tracer("vintage-instrumentations")
        _span(tracer, "chat gpt-4o", NEW, T0)
        _span(tracer, "openai.chat", OLD, T0 + timedelta(minutes=1), error=True)
        llm = _span(tracer, "ChatCompletion", OPENINFERENCE, T0 + timedelta(minutes=2))
        for i, attrs in enumerate(IGNORED):
            _span(tracer, f"other {i}", attrs, T0 + timedelta(minutes=3 + i))
        events = lp.get_logger("evaluator")
        # one evaluation by response id, two parented to the OpenInference span (the later wins)
        events.emit(
            timestamp=_ns(T0 + timedelta(minutes=20)),
            event_name=sc.EVENT_GEN_AI_EVALUATION_RESULT,
            attributes={sc.GEN_AI_EVALUATION_NAME: "relevance", sc.GEN_AI_EVALUATION_SCORE_VALUE: 0.8,
                        sc.GEN_AI_RESPONSE_ID: "resp-new"},
        )  # fmt: skip
        events.emit(  # a judge's verdict, usable as ground truth
            timestamp=_ns(T0 + timedelta(minutes=20)),
            event_name=sc.EVENT_GEN_AI_EVALUATION_RESULT,
            attributes={sc.GEN_AI_EVALUATION_NAME: "judge", sc.GEN_AI_EVALUATION_SCORE_LABEL: "pass",
                        sc.GEN_AI_RESPONSE_ID: "resp-new"},
        )  # fmt: skip
        ctx = trace.set_span_in_context(llm)
        for minutes, score in ((21, 0.1), (22, 0.4)):
            events.emit(
                timestamp=_ns(T0 + timedelta(minutes=minutes)),
                context=ctx,
                event_name=sc.EVENT_GEN_AI_EVALUATION_RESULT,
                attributes={sc.GEN_AI_EVALUATION_NAME: "relevance", sc.GEN_AI_EVALUATION_SCORE_VALUE: score,
                            sc.GEN_AI_EVALUATION_SCORE_LABEL: "fail"},
            )  # fmt: skip
        events.emit(  # a flag evaluation as a log event (feature-flag conventions)
            timestamp=_ns(T0),
            event_name=sc.EVENT_FEATURE_FLAG_EVALUATION,
            attributes={
                sc.FEATURE_FLAG_KEY: "prompt",
                sc.FEATURE_FLAG_VARIANT: "b",
                sc.FEATURE_FLAG_CONTEXT_ID: "u9",
            },
        )
        _span(
            tracer,
            "GET /",
            {sc.FEATURE_FLAG_KEY: "prompt", sc.FEATURE_FLAG_RESULT_VALUE: "a", sc.USER_ID: "u8"},
            T0,
        )
    return store


def test_genai_spellings_old_and_new_and_openinference_are_predictions(spans: Any) -> None:
    rows = _rows(
        spans,
        "SELECT source, model_name, model_version, provider, user_id, session_id, prediction_id, input_tokens,"
        " output_tokens, cached_input_tokens, attr_cost, adjusted_count, is_error, segments"
        " FROM impact_predictions ORDER BY ts",
    )
    assert len(rows) == 3  # every span in IGNORED (and the flag span) is ignored
    new, old, oi = rows
    assert new["source"] == "gen_ai" and new["model_name"] == "gpt-4o-2024-08-06"  # response model first
    assert new["model_version"] == "agent-7" and new["provider"] == "openai"
    assert (new["user_id"], new["session_id"], new["prediction_id"]) == ("u1", "conv-1", "resp-new")
    assert (new["input_tokens"], new["output_tokens"], new["cached_input_tokens"]) == (120, 30, 100)
    assert new["segments"] == {"plan": "pro"} and math.isnan(new["attr_cost"])
    assert old["model_name"] == "gpt-3.5-turbo" and old["model_version"] == "faq@3"  # request model
    assert old["provider"] == "openai" and old["user_id"] == "u2" and old["is_error"] == 1
    assert (old["input_tokens"], old["output_tokens"], old["cached_input_tokens"]) == (50, 10, 20)
    assert old["adjusted_count"] == 4.0
    assert oi["source"] == "openinference" and oi["model_name"] == "claude-sonnet"
    assert (oi["model_version"], oi["provider"], oi["user_id"], oi["attr_cost"]) == (
        "t2",
        "anthropic",
        "u3",
        0.25,
    )


def test_evaluations_join_by_response_id_and_by_parent_span(spans: Any) -> None:
    cfg = ImpactConfig()
    window = Window(T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    ev = evaluation_series(spans, cfg, window, 3600.0)
    everyone = (ev["segment_key"] == "") & (ev["model_version"] == "") & (ev["evaluator"] == "relevance")
    got = {
        str(m): float(s) for m, s in zip(ev["model_name"][everyone], ev["mean_score"][everyone], strict=True)
    }
    assert got == {"gpt-4o-2024-08-06": 0.8, "claude-sonnet": 0.4}  # the parented span's latest score
    labels = _rows(spans, "SELECT label, value FROM impact_events WHERE span_id != '' ORDER BY ts")
    assert labels == [{"label": "fail", "value": 0.1}, {"label": "fail", "value": 0.4}]


def test_usage_is_weighted_by_sampling_and_costs_come_from_attributes(spans: Any) -> None:
    cfg = ImpactConfig()
    window = Window(T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    u = usage_series(spans, cfg, window, 7200.0)
    pick = (u["segment_key"] == "") & (u["model_version"] == "")
    by_model = {str(m): i for i, m in enumerate(u["model_name"]) if pick[i]}
    old = by_model["gpt-3.5-turbo"]
    assert (u["volume"][old], u["input_tokens"][old], u["output_tokens"][old]) == (4.0, 200.0, 40.0)
    oi = by_model["claude-sonnet"]
    assert (u["attr_cost"][oi], u["attr_cost_spans"][oi]) == (0.25, 1.0)
    assert u["attr_cost_spans"][by_model["gpt-4o-2024-08-06"]] == 0.0


def test_flag_evaluations_from_log_events_and_span_attributes(spans: Any) -> None:
    rows = _rows(
        spans, "SELECT origin, flag_key, variant, user_id FROM impact_flag_evaluations ORDER BY origin"
    )
    assert rows == [
        {"origin": "log_event", "flag_key": "prompt", "variant": "b", "user_id": "u9"},
        {"origin": "span_attribute", "flag_key": "prompt", "variant": "a", "user_id": "u8"},
    ]


def test_version_attributes_setting_changes_the_version_read(spans: Any) -> None:
    assert read_version_attributes(spans) in (None, sc.DEFAULT_LLM_VERSION_ATTRIBUTES)
    write_version_attributes(spans, (sc.GEN_AI_CONVERSATION_ID,))
    write_version_attributes(spans, (sc.GEN_AI_CONVERSATION_ID,))  # unchanged: no second row
    assert read_version_attributes(spans) == (sc.GEN_AI_CONVERSATION_ID,)
    assert spans.query(
        "SELECT count() FROM impact_settings WHERE value = {v:Array(String)}",
        parameters={"v": [sc.GEN_AI_CONVERSATION_ID]},
    ).result_rows == [(1,)]
    versions = [
        r[0] for r in spans.query("SELECT model_version FROM impact_predictions ORDER BY ts").result_rows
    ]
    assert versions == ["conv-1", "", ""]
    write_version_attributes(spans, sc.DEFAULT_LLM_VERSION_ATTRIBUTES)  # as the other tests expect


def test_a_failed_call_traced_by_the_real_instrumentation_is_an_error_prediction(store: Any) -> None:
    import openai
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

    with LlmStub() as stub, otlp_into(store) as (tp, _):
        instrumentor = OpenAIInstrumentor()
        instrumentor.instrument(tracer_provider=tp)
        try:
            client = openai.OpenAI(base_url=stub.base_url, api_key="k", max_retries=0)
            client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi there"}]
            )
            with pytest.raises(openai.InternalServerError):
                client.chat.completions.create(
                    model="gpt-4o-mini", messages=[{"role": "user", "content": f"{FAIL_MARKER} please"}]
                )
        finally:
            instrumentor.uninstrument()
    rows = store.query(
        "SELECT model_name, is_error, input_tokens FROM impact_predictions ORDER BY ts"
    ).result_rows
    assert rows == [("gpt-4o-mini-2024-07-18", 0, 2.0), ("gpt-4o-mini", 1, 0.0)]


def test_llm_config_section_validates_with_dotted_keys() -> None:
    from otel_impact.config.loader import load_config_text

    with pytest.raises(ConfigError) as err:
        load_config_text("llm:\n  prices:\n    gpt-4o: {input: -1, output: 2}\n")
    assert "llm.prices.gpt-4o.input" in str(err.value)
    with pytest.raises(ConfigError) as err:
        load_config_text("series:\n  model_metrics: [evaluation.]\n")
    assert "series.model_metrics" in str(err.value)
    with pytest.raises(ConfigError) as err:
        load_config_text(
            "lift:\n  flag: f\n  treatment: {ml.model.version: b}\n  control: {ml.model.version: a}\n"
        )
    assert "feature_flag.result.variant" in str(err.value)
    cfg = load_config_text("llm:\n  prices:\n    gpt-4o: {input: 2.5, output: 10, cached_input: 1.25}\n")
    price = cfg.llm.price_of("gpt-4o-2024-08-06")
    assert price is not None and (price.input, price.output, price.cached_input) == (2.5, 10.0, 1.25)
    assert cfg.llm.price_of("o3") is None
    assert np.isclose(cfg.llm.price_unit_tokens, 1e6)


def test_an_evaluation_label_serves_as_ground_truth_when_configured(spans: Any) -> None:
    from otel_impact.store.series import quality_series

    window = Window(T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    without = quality_series(spans, ImpactConfig(), window, 7200.0)
    assert without["labeled"].size == 0
    cfg = ImpactConfig.model_validate({"llm": {"ground_truth_evaluation": "judge"}})
    q = quality_series(spans, cfg, window, 7200.0)
    pick = (q["segment_key"] == "") & (q["model_version"] == "")
    assert q["model_name"][pick].tolist() == ["gpt-4o-2024-08-06"]
    assert (q["labeled"][pick][0], q["accuracy"][pick][0]) == (1.0, 1.0)
