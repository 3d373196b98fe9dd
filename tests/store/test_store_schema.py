"""Schema: exporter table layouts match the reference DESCRIBE output; apply is idempotent."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from typing import Any

import pytest

from otel_impact import semconv
from otel_impact.store import apply_schema
from otel_impact.store.schema import (
    SchemaOptions,
    default_text_indexes,
    is_embedded,
    render_engine,
    render_schema,
    render_statement,
    render_ttl,
    schema_files,
    server_supports_fulltext,
)
from tests.conftest import shared_file


def _reference_columns() -> dict[str, list[tuple[str, str]]]:
    tables: dict[str, list[tuple[str, str]]] = defaultdict(list)
    with shared_file("reference/clickhouseexporter-columns.tsv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            tables[row["table"]].append((row["column"], row["type"]))
    return tables


REFERENCE = _reference_columns()

# Codecs the reference (§3) states explicitly; every other physical column is ZSTD(1).
SPECIAL_CODECS = {
    ("otel_traces", "Timestamp"): "Delta(8), ZSTD(1)",
    ("otel_traces", "Duration"): "T64, ZSTD(1)",
    ("otel_traces", "ResourceAttributeItems"): "",
    ("otel_traces", "SpanAttributeItems"): "",
    ("otel_logs", "Timestamp"): "Delta(8), ZSTD(1)",
    ("otel_logs", "TraceFlags"): "",
    ("otel_logs", "SeverityNumber"): "",
    ("otel_metrics_sum", "IsMonotonic"): "Delta(1), ZSTD(1)",
}
for _table in ("gauge", "sum", "histogram", "exponential_histogram", "summary"):
    for _col in ("StartTimeUnix", "TimeUnix"):
        SPECIAL_CODECS[(f"otel_metrics_{_table}", _col)] = "Delta(4), ZSTD(1)"
    if _table not in ("gauge", "sum"):
        SPECIAL_CODECS[(f"otel_metrics_{_table}", "Count")] = "Delta(8), ZSTD(1)"


def _describe(client: Any, table: str) -> list[tuple[str, str, str]]:
    rows = client.query("DESCRIBE TABLE {t:Identifier}", parameters={"t": table}).result_rows
    return [(r[0], r[1], r[5]) for r in rows]


def test_reference_lists_all_eight_tables() -> None:
    assert set(REFERENCE) == set(semconv.EXPORTER_TABLES)


def test_describe_matches_exporter_reference(store: Any) -> None:
    for table in semconv.EXPORTER_TABLES:
        described = _describe(store, table)
        assert [(name, typ) for name, typ, _ in described] == REFERENCE[table], table
        for name, _, codec in described:
            assert codec == SPECIAL_CODECS.get((table, name), "ZSTD(1)"), (table, name)


def test_text_indexes_on_request(db_client: Any) -> None:
    apply_schema(db_client, database=db_client.database, text_indexes=True)
    rows = db_client.query(
        "SELECT table, name, type FROM system.data_skipping_indices WHERE database = currentDatabase()"
    ).result_rows
    indexes = {(t, n): typ for t, n, typ in rows}
    assert indexes[("otel_traces", "idx_trace_id")] == "text"
    assert indexes[("otel_traces", "idx_span_attr_items")] == "text"
    assert indexes[("otel_traces", "idx_lower_span_name")] == "tokenbf_v1"
    assert indexes[("otel_logs", "idx_lower_body")] == "text"
    assert indexes[("otel_metrics_sum", "idx_time_minmax")] == "minmax"


def test_embedded_default_is_the_bloom_filter_branch(store: Any) -> None:
    # chDB (the test engine, version >= 26.2) still gets bloom filters unless text is asked for
    assert is_embedded(store) and server_supports_fulltext(store)
    assert not default_text_indexes(store)
    rows = store.query(
        "SELECT table, name, type FROM system.data_skipping_indices WHERE database = currentDatabase()"
    ).result_rows
    indexes = {(t, n): typ for t, n, typ in rows}
    assert indexes[("otel_traces", "idx_trace_id")] == "bloom_filter"
    assert indexes[("otel_traces", "idx_span_attr_value")] == "bloom_filter"
    assert indexes[("otel_logs", "idx_lower_body")] == "tokenbf_v1"
    assert "text" not in indexes.values()


def test_server_default_follows_the_version() -> None:
    class FakeServer:
        def __init__(self, version: str) -> None:
            self.version = version

        def command(self, sql: str) -> str:
            return self.version

    assert not is_embedded(FakeServer("26.2.1"))
    assert default_text_indexes(FakeServer("26.2.1.5"))
    assert not default_text_indexes(FakeServer("25.8.3"))


def test_bloom_filter_branch_gives_same_columns(db_client: Any) -> None:
    options = SchemaOptions(database=db_client.database, fulltext=False)
    for _, statement in render_schema(options):
        db_client.command(statement)
    for table in semconv.EXPORTER_TABLES:
        assert [(n, t) for n, t, _ in _describe(db_client, table)] == REFERENCE[table]
    rows = db_client.query(
        "SELECT name, type FROM system.data_skipping_indices WHERE database = currentDatabase() "
        "AND table = 'otel_traces'"
    ).result_rows
    assert ("idx_span_attr_value", "bloom_filter") in rows
    assert all(typ != "text" for _, typ in rows)


def test_second_apply_is_a_no_op(db_client: Any) -> None:
    first = apply_schema(db_client, database=db_client.database)
    assert first.changed
    assert set(semconv.EXPORTER_TABLES) <= set(first.created)
    assert {semconv.VIEW_PREDICTIONS, semconv.VIEW_EVENTS, semconv.TABLE_SCHEMA_VERSION} <= set(first.created)
    second = apply_schema(db_client, database=db_client.database)
    assert not second.changed
    assert second.statements == ()
    assert set(second.present) == set(first.created)
    assert "nothing to do" in second.summary()


def test_changed_view_definition_is_replaced(db_client: Any) -> None:
    apply_schema(db_client, database=db_client.database)
    # pretend an older package recorded a different definition of the predictions view
    db_client.command(
        "ALTER TABLE impact_schema_version UPDATE checksum = 'stale' WHERE object = {o:String} "
        "SETTINGS mutations_sync = 1",
        parameters={"o": semconv.VIEW_PREDICTIONS},
    )
    result = apply_schema(db_client, database=db_client.database)
    assert result.updated == (semconv.VIEW_PREDICTIONS,)
    assert result.created == ()
    assert "CREATE OR REPLACE VIEW" in result.statements[0]
    assert db_client.query("SELECT count() FROM impact_predictions").result_rows == [(0,)]
    assert not apply_schema(db_client, database=db_client.database).changed


def test_missing_database_is_created(engine_client: Any) -> None:
    import uuid

    name = "t_" + uuid.uuid4().hex[:12]
    try:
        result = apply_schema(engine_client, database=name)
        assert result.database == name
        tables = engine_client.query(
            "SELECT count() FROM system.tables WHERE database = {d:String}", parameters={"d": name}
        ).result_rows[0][0]
        assert tables == len(schema_files())
    finally:
        engine_client.command(f"DROP DATABASE IF EXISTS {name} SYNC")


CLASSIC_TRACES = """
CREATE TABLE otel_traces (
    Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)), TraceId String, SpanId String, ParentSpanId String,
    TraceState String, SpanName LowCardinality(String), SpanKind LowCardinality(String),
    ServiceName LowCardinality(String), ResourceAttributes Map(LowCardinality(String), String),
    ScopeName String, ScopeVersion String, SpanAttributes Map(LowCardinality(String), String),
    Duration UInt64, StatusCode LowCardinality(String), StatusMessage String,
    Events Nested (Timestamp DateTime64(9), Name LowCardinality(String), Attributes Map(LowCardinality(String), String)),
    Links Nested (TraceId String, SpanId String, TraceState String, Attributes Map(LowCardinality(String), String)),
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1
) ENGINE = MergeTree() PARTITION BY toDate(Timestamp) ORDER BY (ServiceName, SpanName, toDateTime(Timestamp))
"""
OLD_LOGS = """
CREATE TABLE otel_logs (
    Timestamp DateTime64(9), TimestampTime DateTime DEFAULT toDateTime(Timestamp), TraceId String, SpanId String,
    TraceFlags UInt8, SeverityText LowCardinality(String), SeverityNumber UInt8, ServiceName LowCardinality(String),
    Body String, ResourceSchemaUrl LowCardinality(String), ResourceAttributes Map(LowCardinality(String), String),
    ScopeSchemaUrl LowCardinality(String), ScopeName String, ScopeVersion LowCardinality(String),
    ScopeAttributes Map(LowCardinality(String), String), LogAttributes Map(LowCardinality(String), String)
) ENGINE = MergeTree() PARTITION BY toDate(TimestampTime) ORDER BY (ServiceName, TimestampTime, Timestamp)
"""


def test_apply_over_tables_a_collector_created(db_client: Any) -> None:
    """A released Collector made a classic traces table; apply keeps it and the view reads it."""
    db_client.command(CLASSIC_TRACES)
    result = apply_schema(db_client, database=db_client.database)
    assert semconv.TABLE_TRACES in result.present
    assert semconv.TABLE_TRACES not in result.created
    db_client.insert(
        "otel_traces",
        [
            [
                1700000000123456789,
                "ab",
                "cd",
                "SPAN_KIND_SERVER",
                "STATUS_CODE_ERROR",
                {semconv.ML_MODEL_NAME: "m"},
            ]
        ],
        column_names=["Timestamp", "TraceId", "SpanId", "SpanKind", "StatusCode", "SpanAttributes"],
    )
    pred = db_client.query("SELECT model_name, span_kind, is_error FROM impact_predictions").result_rows
    assert pred == [("m", "Server", 1)]


def test_events_view_over_logs_without_event_name_column(db_client: Any) -> None:
    """Logs tables from before the EventName column: the view takes the event.name attribute."""
    db_client.command(OLD_LOGS)
    events_file = next(f for f in schema_files() if f.name == semconv.VIEW_EVENTS)
    options = SchemaOptions(database=db_client.database, logs_event_name=False)
    db_client.command(render_statement(events_file.template, options))
    attributes = {semconv.EVENT_NAME: "business.purchase", semconv.BUSINESS_VALUE: "2.5"}
    db_client.insert(
        "otel_logs", [[1700000000000000001, attributes]], column_names=["Timestamp", "LogAttributes"]
    )
    events = db_client.query("SELECT event_name, value FROM impact_events").result_rows
    assert events == [("business.purchase", 2.5)]


def test_cluster_ddl_text() -> None:
    rendered = render_schema(SchemaOptions(database="otel", cluster="prod", ttl=3 * 86400))
    assert len(rendered) == len(schema_files())
    by_name = {f.name: text for f, text in rendered}
    for name, text in by_name.items():
        first = text.splitlines()[0]
        assert "ON CLUSTER `prod`" in first, name
        assert re.search(r"ENGINE = (?!Replicated)\w*MergeTree", text) is None, name
    replicated = "('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')"
    assert f"ENGINE = ReplicatedMergeTree{replicated}" in by_name[semconv.TABLE_TRACES]
    assert f"ENGINE = ReplicatedAggregatingMergeTree{replicated}" in by_name[semconv.TABLE_TRACES_ID_TS]
    assert "TTL toDateTime(Timestamp) + toIntervalDay(3)" in by_name[semconv.TABLE_TRACES]
    assert "TTL toDateTime(Start) + toIntervalDay(3)" in by_name[semconv.TABLE_TRACES_ID_TS]
    assert "TTL toDateTime(TimeUnix) + toIntervalDay(3)" in by_name[semconv.TABLE_METRICS_SUM]
    assert by_name[semconv.TABLE_TRACES].startswith(
        "CREATE TABLE IF NOT EXISTS `otel`.otel_traces ON CLUSTER"
    )


def test_default_render_has_no_cluster_or_ttl() -> None:
    for f, text in render_schema(SchemaOptions(database="d")):
        assert "ON CLUSTER" not in text and "{{" not in text and "Replicated" not in text, f.name
        if f.name in semconv.EXPORTER_TABLES:  # exporter TTL only with --ttl (our tables may fix their own)
            assert "TTL " not in text, f.name


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, ""),
        (None, ""),
        (2 * 86400, "TTL x + toIntervalDay(2)"),
        (36 * 3600, "TTL x + toIntervalHour(36)"),
        (90 * 60, "TTL x + toIntervalMinute(90)"),
        (61, "TTL x + toIntervalSecond(61)"),
    ],
)
def test_ttl_rendering(seconds: float | None, expected: str) -> None:
    assert render_ttl("x", seconds) == expected


def test_engine_rendering() -> None:
    path = "'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'"
    assert render_engine("MergeTree()", None) == "MergeTree()"
    assert render_engine("MergeTree()", "c") == f"ReplicatedMergeTree({path})"
    assert render_engine("ReplacingMergeTree(ver)", "c") == f"ReplicatedReplacingMergeTree({path}, ver)"


def test_template_errors_name_the_problem() -> None:
    options = SchemaOptions(database="d")
    with pytest.raises(ValueError, match="unknown placeholder"):
        render_statement("CREATE TABLE {{db}}.t {{nope}}", options)
    with pytest.raises(ValueError, match="NOT_A_CONSTANT"):
        render_statement("SELECT {{key:NOT_A_CONSTANT}}", options)
    with pytest.raises(ValueError, match="@end"):
        render_statement("-- @if fulltext\nx", options)


def test_view_keys_come_from_semconv() -> None:
    text = dict((f.name, t) for f, t in render_schema(SchemaOptions(database="d")))[semconv.VIEW_PREDICTIONS]
    for key in (semconv.ML_MODEL_NAME, semconv.ML_PREDICTION_SCORE, semconv.SAMPLING_ADJUSTED_COUNT):
        assert f"'{key}'" in text


def test_schema_files_follow_the_naming_convention() -> None:
    files = schema_files()
    assert [f.filename for f in files] == sorted(f.filename for f in files)
    for f in files:
        assert re.fullmatch(r"\d{3}_[a-z0-9_]+\.sql", f.filename), f.filename
        assert f.filename[4:-4] == f.name, f"{f.filename} creates {f.name}"
        assert f.name in (*semconv.EXPORTER_TABLES, semconv.TABLE_TRACES_ID_TS_MV) or f.name.startswith(
            "impact_"
        )


def test_typed_view_columns_and_types(store: Any) -> None:
    from otel_impact.store import EVENT_COLUMNS, PREDICTION_COLUMNS

    predictions = dict((r[0], r[1]) for r in _describe(store, semconv.VIEW_PREDICTIONS))
    assert tuple(predictions)[: len(PREDICTION_COLUMNS)] == PREDICTION_COLUMNS
    llm = {name: predictions.pop(name) for name in tuple(predictions)[len(PREDICTION_COLUMNS) :]}
    assert llm == {  # LLM prediction columns (docs/llm.md)
        "source": "String",
        "provider": "String",
        "response_id": "String",
        "input_tokens": "Float64",
        "output_tokens": "Float64",
        "cached_input_tokens": "Float64",
        "attr_cost": "Float64",
        "attributes": "Map(String, String)",
    }
    assert predictions == {
        **{name: "String" for name in PREDICTION_COLUMNS},
        "ts": "DateTime64(9)",
        "score": "Float64",
        "segments": "Map(String, String)",
        "adjusted_count": "Float64",
        "duration_ns": "UInt64",
        "is_error": "UInt8",
    }
    events = dict((r[0], r[1]) for r in _describe(store, semconv.VIEW_EVENTS))
    assert tuple(events)[: len(EVENT_COLUMNS)] == EVENT_COLUMNS
    assert {name: events.pop(name) for name in tuple(events)[len(EVENT_COLUMNS) :]} == {
        "evaluation_name": "String",
        "response_id": "String",
    }
    assert events == {
        **{name: "String" for name in EVENT_COLUMNS},
        "ts": "DateTime64(9)",
        "value": "Float64",
        "attributes": "Map(LowCardinality(String), String)",
    }


TRACE_INSERT_TABLES = (semconv.TABLE_TRACES, semconv.TABLE_TRACES_ID_TS, semconv.TABLE_PREDICTIONS_TYPED)


def test_embedded_trace_tables_merge_less_eagerly() -> None:
    # only the tables a trace insert writes, only on embedded chDB; a server keeps the exporter's
    for embedded in (True, False):
        rendered = dict((f.name, t) for f, t in render_schema(SchemaOptions(database="d", embedded=embedded)))
        for name, text in rendered.items():
            expected = embedded and name in TRACE_INSERT_TABLES
            assert ("merge_selector_base = 10" in text) == expected, (embedded, name)


def test_apply_schema_on_chdb_sets_the_merge_base(store: Any) -> None:
    assert is_embedded(store)
    rows = store.query(
        "SELECT name, create_table_query FROM system.tables WHERE database = currentDatabase()"
    ).result_rows
    settings = {name: "merge_selector_base = 10" in ddl for name, ddl in rows}
    assert {name for name, has in settings.items() if has} == set(TRACE_INSERT_TABLES)
