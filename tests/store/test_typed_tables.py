"""The typed tables (impact_predictions_typed / impact_events_typed) equal the views row for row.

Rows are written the way a Collector writes them — plain INSERTs into ``otel_traces`` /
``otel_logs`` after ``schema apply`` — so only the store's materialized views fill the typed
tables. Spans and events are random (hypothesis): our prediction spans, GenAI and OpenInference
LLM spans, sampled spans (TraceState ``ot=th:…``, the ``sampling.adjusted_count`` attribute,
broken values of both), missing attributes, old span-kind / status spellings; the exporter's JSON
attribute layout too. Rows already present before the materialized views exist come in through
:func:`otel_impact.store.backfill.backfill`.
"""

from __future__ import annotations

import importlib.util
import math
import os
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_testing import fresh_database

from otel_impact import semconv
from otel_impact.store import apply_schema
from otel_impact.store.backfill import backfill
from otel_impact.store.llm import write_version_attributes

_spec = importlib.util.spec_from_file_location(
    "json_layout", Path(__file__).parent.parent / "llm" / "json_layout.py"
)
assert _spec is not None and _spec.loader is not None
json_layout = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(json_layout)

PREDICTION_COLUMNS = (
    "ts, trace_id, span_id, service_name, model_name, model_version, prediction_id, score, label, "
    "user_id, session_id, request_id, segments, features_hash, adjusted_count, duration_ns, is_error, "
    "span_kind, source, provider, response_id, input_tokens, output_tokens, cached_input_tokens, attr_cost"
)
EVENT_COLUMNS = (
    "ts, event_name, service_name, trace_id, span_id, user_id, session_id, request_id, prediction_id, "
    "value, currency, label, attributes, evaluation_name, response_id"
)
BASE = datetime(2026, 3, 1)
SPAN_COLUMNS = ["Timestamp", "TraceId", "SpanId", "TraceState", "SpanName", "SpanKind", "ServiceName",
                "SpanAttributes", "Duration", "StatusCode"]  # fmt: skip
LOG_COLUMNS = ["Timestamp", "TraceId", "SpanId", "ServiceName", "EventName", "LogAttributes"]

# --- random spans and events --------------------------------------------------------------------

NUMBERS = st.sampled_from(["1", "2.5", "0", "-3", "0.5", "abc", "", "inf", "nan", "1e3", "7"])
IDS = st.sampled_from(["", "u1", "u2", "p-1", "p-2", "s9", "r7"])
TRACE_STATES = st.sampled_from(
    ["", "ot=th:8", "ot=th:c", "ot=th:fff;rv:0123456789abcd", "vendor=x,ot=th:4", "ot=th:", "ot=rv:ab",
     "ot=th:zz", "ot=th:fffffffffffffff"]
)  # fmt: skip
SPAN_KINDS = st.sampled_from(
    ["Internal", "Server", "SPAN_KIND_SERVER", "SPAN_KIND_INTERNAL", "SPAN_KIND_CLIENT", "Unspecified"]
)
STATUS = st.sampled_from(["Unset", "Ok", "Error", "STATUS_CODE_ERROR", "STATUS_CODE_OK"])

ML_ATTRS = {
    semconv.ML_MODEL_VERSION: st.sampled_from(["v1", "v2", ""]),
    semconv.ML_PREDICTION_ID: IDS,
    semconv.ML_PREDICTION_SCORE: NUMBERS,
    semconv.ML_PREDICTION_LABEL: st.sampled_from(["yes", "no", ""]),
    semconv.USER_ID: IDS,
    semconv.ENDUSER_ID: IDS,
    semconv.SESSION_ID: IDS,
    semconv.ML_REQUEST_ID: IDS,
    semconv.ML_FEATURES_HASH: st.sampled_from(["h1", "h2"]),
    semconv.SAMPLING_ADJUSTED_COUNT: NUMBERS,
    semconv.segment_attribute("platform"): st.sampled_from(["web", "mobile", ""]),
    semconv.segment_attribute("country"): st.sampled_from(["de", "fr"]),
    semconv.GEN_AI_CONVERSATION_ID: IDS,
    "custom.version": st.sampled_from(["c1", "c2", ""]),
}
GENAI_ATTRS = {
    semconv.GEN_AI_OPERATION_NAME: st.sampled_from(
        ["chat", "text_completion", "generate_content", "embeddings", ""]
    ),
    semconv.LLM_REQUEST_TYPE: st.sampled_from(["chat", "completion", "rerank"]),
    semconv.GEN_AI_REQUEST_MODEL: st.sampled_from(["gpt-x", ""]),
    semconv.GEN_AI_RESPONSE_MODEL: st.sampled_from(["gpt-x-2026", ""]),
    semconv.GEN_AI_RESPONSE_ID: IDS,
    semconv.GEN_AI_PROVIDER_NAME: st.sampled_from(["openai", ""]),
    semconv.GEN_AI_SYSTEM: st.sampled_from(["anthropic", ""]),
    semconv.GEN_AI_USAGE_INPUT_TOKENS: NUMBERS,
    semconv.GEN_AI_USAGE_PROMPT_TOKENS: NUMBERS,
    semconv.GEN_AI_USAGE_OUTPUT_TOKENS: NUMBERS,
    semconv.GEN_AI_USAGE_COMPLETION_TOKENS: NUMBERS,
    semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS_OLD: NUMBERS,
    semconv.GEN_AI_PROMPT_NAME: st.sampled_from(["prompt-a", ""]),
    semconv.GEN_AI_AGENT_VERSION: st.sampled_from(["agent-3", ""]),
    semconv.LLM_COST_TOTAL: NUMBERS,
    semconv.LLM_COST_PROMPT: NUMBERS,
    semconv.LLM_COST_COMPLETION: NUMBERS,
}
OI_ATTRS = {
    semconv.OPENINFERENCE_SPAN_KIND: st.sampled_from(["LLM", "CHAIN"]),
    semconv.LLM_MODEL_NAME: st.sampled_from(["claude-x", ""]),
    semconv.LLM_PROVIDER: st.sampled_from(["anthropic", ""]),
    semconv.LLM_SYSTEM: st.sampled_from(["claude", ""]),
    semconv.OPENINFERENCE_OUTPUT_VALUE: st.sampled_from(['{"id": "resp-1"}', '{"x": 1}', "not json", ""]),
    semconv.LLM_TOKEN_COUNT_PROMPT: NUMBERS,
    semconv.LLM_TOKEN_COUNT_COMPLETION: NUMBERS,
    semconv.LLM_TOKEN_COUNT_CACHE_READ: NUMBERS,
    semconv.LLM_PROMPT_TEMPLATE_VERSION: st.sampled_from(["t1", ""]),
}


def _attrs(pool: dict[str, st.SearchStrategy[str]]) -> st.SearchStrategy[dict[str, str]]:
    """A random subset of ``pool``'s keys with random values (missing attributes included)."""
    return st.fixed_dictionaries({}, optional=pool)


@st.composite
def spans(draw: Any) -> list[Any]:
    kind = draw(st.sampled_from(["ml", "genai", "oi", "mixed", "other"]))
    attrs: dict[str, str] = {}
    if kind in ("ml", "mixed"):
        attrs[semconv.ML_MODEL_NAME] = draw(st.sampled_from(["ranker", "churn", ""]))
    if kind in ("genai", "mixed"):
        attrs |= draw(_attrs(GENAI_ATTRS))
    if kind in ("oi", "mixed"):
        attrs |= draw(_attrs(OI_ATTRS))
    attrs |= draw(_attrs(ML_ATTRS))
    offset = draw(st.integers(0, 5 * 86_400_000_000)) / 1e6  # 5 days, µs resolution
    return [
        BASE + timedelta(seconds=offset),
        uuid.uuid4().hex,
        uuid.uuid4().hex[:16],
        draw(TRACE_STATES),
        "predict",
        draw(SPAN_KINDS),
        draw(st.sampled_from(["svc-a", "svc-b"])),
        attrs,
        draw(st.integers(0, 10**9)),
        draw(STATUS),
    ]


EVENT_ATTRS = {
    semconv.EVENT_NAME: st.sampled_from(["business.purchase", "ml.outcome", ""]),
    semconv.USER_ID: IDS,
    semconv.SESSION_ID: IDS,
    semconv.ML_REQUEST_ID: IDS,
    semconv.ML_PREDICTION_ID: IDS,
    semconv.GEN_AI_RESPONSE_ID: IDS,
    semconv.BUSINESS_VALUE: NUMBERS,
    semconv.ML_OUTCOME_VALUE: NUMBERS,
    semconv.GEN_AI_EVALUATION_SCORE_VALUE: NUMBERS,
    semconv.BUSINESS_CURRENCY: st.sampled_from(["EUR", "USD"]),
    semconv.ML_OUTCOME_LABEL: st.sampled_from(["1", "0", ""]),
    semconv.GEN_AI_EVALUATION_SCORE_LABEL: st.sampled_from(["good", ""]),
    semconv.GEN_AI_EVALUATION_NAME: st.sampled_from(["relevance", ""]),
}


@st.composite
def events(draw: Any) -> list[Any]:
    offset = draw(st.integers(0, 5 * 86_400_000_000)) / 1e6
    return [
        BASE + timedelta(seconds=offset),
        draw(st.sampled_from(["", uuid.uuid4().hex])),
        draw(st.sampled_from(["", uuid.uuid4().hex[:16]])),
        draw(st.sampled_from(["checkout", "evaluator"])),
        draw(
            st.sampled_from(
                ["", "business.purchase", "ml.outcome", "gen_ai.evaluation.result", "pipeline.run"]
            )
        ),
        draw(_attrs(EVENT_ATTRS)),
    ]


# --- helpers ------------------------------------------------------------------------------------


def _value(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return "NaN"
    if isinstance(v, dict):
        return tuple(sorted(v.items()))
    return v


def rows(client: Any, columns: str, table: str) -> Counter[tuple[Any, ...]]:
    res = client.query(f"SELECT {columns} FROM {{t:Identifier}}", parameters={"t": table})
    return Counter(tuple(_value(v) for v in row) for row in res.result_rows)


def assert_equal(client: Any) -> tuple[int, int]:
    """The typed tables hold exactly the views' rows; returns the row counts (predictions, events)."""
    view_p = rows(client, PREDICTION_COLUMNS, semconv.VIEW_PREDICTIONS)
    typed_p = rows(client, PREDICTION_COLUMNS, semconv.TABLE_PREDICTIONS_TYPED)
    assert typed_p == view_p
    view_e = rows(client, EVENT_COLUMNS, semconv.VIEW_EVENTS)
    typed_e = rows(client, EVENT_COLUMNS, semconv.TABLE_EVENTS_TYPED)
    assert typed_e == view_e
    return sum(view_p.values()), sum(view_e.values())


def collector_insert(client: Any, span_rows: list[list[Any]], log_rows: list[list[Any]]) -> None:
    """Plain INSERTs into the exporter tables, as a Collector does (not our writer)."""
    if span_rows:
        client.insert(semconv.TABLE_TRACES, span_rows, column_names=SPAN_COLUMNS)
    if log_rows:
        client.insert(semconv.TABLE_LOGS, log_rows, column_names=LOG_COLUMNS)


def truncate(client: Any) -> None:
    for table in (semconv.TABLE_TRACES, semconv.TABLE_LOGS, semconv.TABLE_SETTINGS,
                  semconv.TABLE_PREDICTIONS_TYPED, semconv.TABLE_EVENTS_TYPED):  # fmt: skip
        client.command("TRUNCATE TABLE {t:Identifier}", parameters={"t": table})


@pytest.fixture(scope="module")
def typed_store(engine_client: Any) -> Iterator[Any]:
    with fresh_database(engine_client, schema=True) as client:
        yield client


# --- tests --------------------------------------------------------------------------------------

PROPERTY = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@PROPERTY
@given(span_rows=st.lists(spans(), max_size=25), log_rows=st.lists(events(), max_size=15))
def test_collector_inserts_give_the_views_rows(
    typed_store: Any, span_rows: list[list[Any]], log_rows: list[list[Any]]
) -> None:
    truncate(typed_store)
    collector_insert(typed_store, span_rows, log_rows)
    assert_equal(typed_store)


def test_sampled_and_old_spellings_are_derived(typed_store: Any) -> None:
    """Concrete values, so the equality above cannot hold merely because both sides are empty."""
    truncate(typed_store)
    model = {semconv.ML_MODEL_NAME: "ranker", semconv.USER_ID: "u1"}
    collector_insert(
        typed_store,
        [
            [BASE, "t1", "s1", "ot=th:8", "p", "SPAN_KIND_SERVER", "svc", model, 5, "STATUS_CODE_ERROR"],
            [
                BASE,
                "t2",
                "s2",
                "",
                "p",
                "Internal",
                "svc",
                model | {semconv.SAMPLING_ADJUSTED_COUNT: "4"},
                5,
                "Unset",
            ],
            [
                BASE,
                "t3",
                "s3",
                "",
                "p",
                "Internal",
                "svc",
                {semconv.USER_ID: "u1"},
                5,
                "Unset",
            ],  # not a prediction
        ],
        [],
    )
    res = typed_store.query(
        "SELECT span_id, adjusted_count, span_kind, is_error FROM {t:Identifier} ORDER BY span_id",
        parameters={"t": semconv.TABLE_PREDICTIONS_TYPED},
    )
    assert res.result_rows == [("s1", 2.0, "Server", 1), ("s2", 4.0, "Internal", 0)]
    assert_equal(typed_store)


def test_setting_change_re_derives_llm_versions(typed_store: Any) -> None:
    truncate(typed_store)
    llm = {
        semconv.GEN_AI_OPERATION_NAME: "chat",
        semconv.GEN_AI_REQUEST_MODEL: "gpt-x",
        semconv.GEN_AI_PROMPT_NAME: "prompt-a",
        "custom.version": "c7",
    }
    collector_insert(typed_store, [[BASE, "t1", "s1", "", "chat", "Client", "svc", llm, 5, "Unset"]], [])

    def version(table: str) -> str:
        res = typed_store.query("SELECT model_version FROM {t:Identifier}", parameters={"t": table})
        return str(res.result_rows[0][0])

    assert version(semconv.TABLE_PREDICTIONS_TYPED) == "prompt-a"
    write_version_attributes(typed_store, ("custom.version",))
    assert version(semconv.VIEW_PREDICTIONS) == "c7"
    assert version(semconv.TABLE_PREDICTIONS_TYPED) == "c7"
    # spans inserted after the change are derived with the new setting at insert time
    collector_insert(typed_store, [[BASE, "t2", "s2", "", "chat", "Client", "svc", llm, 5, "Unset"]], [])
    assert_equal(typed_store)


def test_backfill_fills_rows_written_before_the_materialized_views(db_client: Any) -> None:
    database = db_client.database
    apply_schema(db_client, database=database)
    for mv in (semconv.MV_PREDICTIONS_TYPED, semconv.MV_EVENTS_TYPED):  # a store from before typed tables
        db_client.command("DROP VIEW {v:Identifier}", parameters={"v": mv})
    ml = {semconv.ML_MODEL_NAME: "ranker", semconv.USER_ID: "u1", semconv.ML_PREDICTION_ID: "p1"}
    old_spans = [[BASE + timedelta(days=d, hours=h), "t", f"s{d}{h}", "", "p", "Internal", "svc", ml, 1, "Unset"]
                 for d in range(3) for h in (1, 5)]  # fmt: skip
    old_logs = [[BASE + timedelta(days=d), "", "", "shop", "business.purchase", {semconv.USER_ID: "u1"}]
                for d in range(3)]  # fmt: skip
    collector_insert(db_client, old_spans, old_logs)

    result = apply_schema(db_client, database=database)
    assert set(result.created) == {semconv.MV_PREDICTIONS_TYPED, semconv.MV_EVENTS_TYPED}
    assert set(result.backfill) == {semconv.TABLE_PREDICTIONS_TYPED, semconv.TABLE_EVENTS_TYPED}
    assert "schema backfill" in result.summary()
    with pytest.raises(AssertionError):
        assert_equal(db_client)  # the old rows are not in the typed tables yet

    done = backfill(db_client)
    assert [(r.table, r.rows, len(r.days)) for r in done] == [
        (semconv.TABLE_PREDICTIONS_TYPED, 6, 3),
        (semconv.TABLE_EVENTS_TYPED, 3, 3),
    ]
    assert assert_equal(db_client) == (6, 3)
    # new rows through the materialized views, then a second backfill: still equal, no duplicates
    collector_insert(
        db_client, [[BASE + timedelta(days=1), "t", "new", "", "p", "Internal", "svc", ml, 1, "Unset"]], []
    )
    backfill(db_client, since=BASE.date(), until=(BASE + timedelta(days=1)).date())
    assert assert_equal(db_client) == (7, 3)


def test_backfill_drops_a_day_that_derives_no_rows(typed_store: Any) -> None:
    truncate(typed_store)
    ml = {semconv.ML_MODEL_NAME: "ranker"}
    collector_insert(typed_store, [[BASE, "t", "s", "", "p", "Internal", "svc", ml, 1, "Unset"]], [])
    # the span loses its model in the exporter table (as after a mutation): the day derives nothing
    typed_store.command(
        "ALTER TABLE {t:Identifier} DELETE WHERE 1 SETTINGS mutations_sync = 2",
        parameters={"t": semconv.TABLE_TRACES},
    )
    collector_insert(typed_store, [[BASE, "t", "s2", "", "p", "Internal", "svc", {}, 1, "Unset"]], [])
    assert backfill(typed_store, tables=("predictions",))[0].rows == 0
    assert assert_equal(typed_store) == (0, 0)


def test_backfill_validates_arguments(typed_store: Any) -> None:
    with pytest.raises(ValueError, match="tables"):
        backfill(typed_store, tables=("spans",))
    with pytest.raises(ValueError, match="since"):
        backfill(typed_store, since=BASE.date(), until=(BASE - timedelta(days=1)).date())


def test_json_attribute_layout_gives_the_same_rows(typed_store: Any, db_client: Any) -> None:
    """Exporter ``json: true`` tables (created before ``schema apply``): typed == view there too."""
    truncate(typed_store)
    ml = {semconv.ML_MODEL_NAME: "ranker", semconv.ML_PREDICTION_SCORE: "0.25", semconv.USER_ID: "u1",
          semconv.SAMPLING_ADJUSTED_COUNT: "3", semconv.segment_attribute("platform"): "web"}  # fmt: skip
    llm = {semconv.GEN_AI_OPERATION_NAME: "chat", semconv.GEN_AI_RESPONSE_MODEL: "gpt-x",
           semconv.GEN_AI_USAGE_INPUT_TOKENS: "12", semconv.GEN_AI_RESPONSE_ID: "r1"}  # fmt: skip
    collector_insert(
        typed_store,
        [[BASE, "t1", "s1", "ot=th:c", "p", "Internal", "svc", ml, 7, "Unset"],
         [BASE, "t2", "s2", "", "chat", "SPAN_KIND_CLIENT", "svc", llm, 9, "Error"]],
        [[BASE, "", "", "shop", "business.purchase", {semconv.USER_ID: "u1", semconv.BUSINESS_VALUE: "9.5"}]],
    )  # fmt: skip
    json_layout.copy_to_json_layout(typed_store, db_client)  # JSON tables first, as a Collector would
    result = apply_schema(db_client, database=db_client.database)
    assert set(result.backfill) == {semconv.TABLE_PREDICTIONS_TYPED, semconv.TABLE_EVENTS_TYPED}
    backfill(db_client)
    assert assert_equal(db_client) == (2, 1)
    # and inserts after apply go through the materialized views of the JSON layout
    for table in (semconv.TABLE_TRACES, semconv.TABLE_LOGS):
        db_client.command("TRUNCATE TABLE {t:Identifier}", parameters={"t": table})
    for table in (semconv.TABLE_PREDICTIONS_TYPED, semconv.TABLE_EVENTS_TYPED):
        db_client.command("TRUNCATE TABLE {t:Identifier}", parameters={"t": table})
    copy_rows_into_json(typed_store, db_client)
    assert assert_equal(db_client) == (2, 1)


def copy_rows_into_json(source: Any, target: Any) -> None:
    """Insert ``source``'s exporter rows into ``target``'s existing JSON-layout tables."""
    for table, columns in (
        (semconv.TABLE_TRACES, json_layout._TRACE_COLUMNS),
        (semconv.TABLE_LOGS, json_layout._LOG_COLUMNS),
    ):
        res = source.query(f"SELECT {columns} FROM {source.database}.{table}")
        names = list(res.column_names)
        out = [json_layout._convert(names, row) for row in res.result_rows]
        target.insert(table, [r for _, r in out], column_names=out[0][0], database=target.database)


def test_changed_materialized_view_is_replaced_and_keeps_its_rows(db_client: Any) -> None:
    apply_schema(db_client, database=db_client.database)
    ml = {semconv.ML_MODEL_NAME: "ranker"}
    collector_insert(db_client, [[BASE, "t", "s1", "", "p", "Internal", "svc", ml, 1, "Unset"]], [])
    # pretend an older package recorded a different definition of the materialized view
    db_client.command(
        "ALTER TABLE impact_schema_version UPDATE checksum = 'stale' WHERE object = {o:String} "
        "SETTINGS mutations_sync = 1",
        parameters={"o": semconv.MV_PREDICTIONS_TYPED},
    )
    result = apply_schema(db_client, database=db_client.database)
    assert result.updated == (semconv.MV_PREDICTIONS_TYPED,)
    assert result.created == () and result.backfill == ()
    collector_insert(db_client, [[BASE, "t", "s2", "", "p", "Internal", "svc", ml, 1, "Unset"]], [])
    assert assert_equal(db_client) == (2, 0)  # the old row kept, the new one through the new view
    assert not apply_schema(db_client, database=db_client.database).changed


def test_schema_backfill_command(engine_client: Any) -> None:
    from click.testing import CliRunner

    from otel_impact.cli.main import cli

    dsn = os.environ.get(semconv.ENV_TEST_CLICKHOUSE_DSN) or "chdb://memory"
    db = ["--dsn", dsn, "--database", "t_" + uuid.uuid4().hex[:12]]
    runner = CliRunner()
    try:
        assert runner.invoke(cli, ["schema", "apply", *db]).exit_code == 0
        out = runner.invoke(cli, ["schema", "backfill", *db, "--table", "events", "--since", "2026-03-01"])
        bad = runner.invoke(
            cli, ["schema", "backfill", *db, "--since", "2026-03-02", "--until", "2026-03-01"]
        )
    finally:
        engine_client.command(f"DROP DATABASE IF EXISTS {db[3]} SYNC")
    assert out.exit_code == 0, out.output
    assert "impact_events_typed: no source rows in the range" in out.output
    assert bad.exit_code != 0
    assert "--since" in bad.output
