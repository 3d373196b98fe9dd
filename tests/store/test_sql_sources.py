"""Configured SQL sources are read-only: one SELECT, checked at load and again where it runs,
executed with ``readonly`` settings. A canary table must survive every path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from otel_impact.config import config_from_dict, load_config_text
from otel_impact.config.job import (
    EvaluationFeature,
    EvaluationSection,
    OfflineMetric,
    OnlineMetric,
    TreeNode,
    TreeSource,
)
from otel_impact.config.model import BusinessMetric, Identity, IdentityColumns, ImpactConfig, Source
from otel_impact.config.sqlsource import select_body
from otel_impact.config.stats import CustomMetric
from otel_impact.errors import ConfigError
from otel_impact.job import _offline_values
from otel_impact.pipeline import Window
from otel_impact.store.series import custom_series
from otel_impact.store.stitch import validate_identity, validate_sql_source
from otel_impact.tree import read_source

HOSTILE = ["SELECT 1 AS ts, 1 AS key, 1 AS value; DROP TABLE canary", "DROP TABLE canary"]

# (yaml with {sql} in place of the source, the dotted key it must name)
PATHS = [
    ("business_metrics: [{name: p, source: {sql: '{sql}'}}]", "business_metrics[0].source.sql"),
    ("identity: {sql: '{sql}'}", "identity.sql"),
    (
        "evaluation: {features: [{name: f, offline: {name: auc, threshold: 0.5, sql: '{sql}'}, "
        "online: {series: ctr, threshold: 0.1}}]}",
        "evaluation.features[0].offline.sql",
    ),
    ("tree: {root: {name: r, source: {sql: '{sql}'}}}", "tree.root.source.sql"),
    ("series: {custom: [{name: c, sql: '{sql}'}]}", "series.custom[0].sql"),
]


@pytest.mark.parametrize("sql", HOSTILE)
@pytest.mark.parametrize(("template", "path"), PATHS)
def test_defect6_multi_statement_or_write_sources_are_config_errors(
    template: str, path: str, sql: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_config_text(template.replace("{sql}", sql))
    assert err.value.path == path
    assert "single SELECT" in str(err.value) or "read-only SELECT" in str(err.value)


def _canary(store: Any) -> None:
    store.command("CREATE TABLE canary (x UInt8) ENGINE = MergeTree ORDER BY x")
    store.command("INSERT INTO canary VALUES (7)")


def _intact(store: Any) -> bool:
    return bool(store.query("SELECT x FROM canary").result_rows == [(7,)])


@pytest.mark.parametrize("sql", HOSTILE)
def test_defect6_sources_that_slipped_past_validation_never_run(store: Any, sql: str) -> None:
    """Models built without validation (model_construct) reach every place a source runs."""
    _canary(store)
    source = Source.model_construct(event=None, sql=sql, columns=None)
    metric = BusinessMetric.model_construct(name="p", source=source, key="user.id", window=60.0, value="sum")
    with pytest.raises(ConfigError, match=r"business_metrics\[0\]\.source\.sql"):
        validate_sql_source(store, metric, 0)
    ident = Identity.model_construct(sql=sql, columns=IdentityColumns())
    with pytest.raises(ConfigError, match=r"identity\.sql"):
        validate_identity(store, ImpactConfig.model_construct(identity=ident))
    offline = OfflineMetric.model_construct(
        name="auc", threshold=0.5, value=None, sql=sql, higher_is_better=True
    )
    online = OnlineMetric(series="ctr", threshold=0.1)
    feature = EvaluationFeature.model_construct(name="f", offline=offline, online=online)
    cfg = ImpactConfig.model_construct(evaluation=EvaluationSection.model_construct(features=(feature,)))
    with pytest.raises(ConfigError, match=r"evaluation\.features\[0\]\.offline\.sql"):
        _offline_values(store, cfg)
    node = TreeNode.model_construct(name="n", source=TreeSource.model_construct(sql=sql, agg="sum"))
    now = datetime.now(UTC)
    with pytest.raises(ConfigError, match=r"source\.sql"):
        read_source(store, node, now - timedelta(days=1), now, 3600)
    custom = CustomMetric.model_construct(name="c", sql=sql, ts="ts", value="value", agg="sum")
    with pytest.raises(ConfigError, match=r"series\.custom\[0\]\.sql"):
        custom_series(store, config_from_dict({}), Window(now - timedelta(days=1), now), 3600, custom, 0)
    assert _intact(store)


def test_sql_sources_run_with_readonly_settings(store: Any) -> None:
    _canary(store)
    probe = "SELECT now() AS ts, toFloat64(getSetting('readonly')) AS value"
    node = TreeNode(name="n", source=TreeSource(sql=probe))
    now = datetime.now(UTC)
    rows = read_source(store, node, now - timedelta(days=1), now + timedelta(hours=1), 3600)
    assert [r[2] for r in rows] == [2.0]  # s = sum(value): readonly = 2 while the source ran
    cfg = config_from_dict(
        {"evaluation": {"features": [{"name": "f", "offline": {"name": "ro", "threshold": 0, "sql":
            "SELECT toFloat64(getSetting('readonly'))"}, "online": {"series": "ctr", "threshold": 0}}]}}
    )  # fmt: skip
    assert _offline_values(store, cfg) == {"f": 2.0}
    # the engine is not left read-only afterwards
    store.command("INSERT INTO canary VALUES (8)")
    assert store.query("SELECT count() FROM canary").result_rows == [(2,)]


@pytest.mark.parametrize(
    ("text", "body"),
    [
        ("SELECT ';' AS a;", "SELECT ';' AS a"),
        ("select 1 -- ; DROP TABLE t\n", "select 1 -- ; DROP TABLE t"),
        ("WITH x AS (SELECT 1) SELECT * FROM x /* ; */", "WITH x AS (SELECT 1) SELECT * FROM x /* ; */"),
        ("(SELECT `a;b` FROM t)", "(SELECT `a;b` FROM t)"),
        ("SELECT $$;$$, 'it''s', 'a\\';b'", "SELECT $$;$$, 'it''s', 'a\\';b'"),
    ],
)
def test_select_body_accepts_one_select(text: str, body: str) -> None:
    assert select_body(text) == body


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("SELECT 1;;", "second statement"),
        ("SELECT 1; SELECT 2", "second statement"),
        ("SELECT 1) AS x FROM (SELECT 1", "unbalanced"),
        ("SELECT (1", "unclosed"),
        ("SELECT 'abc", "unterminated"),
        ("SELECT 1 /* x", "unterminated"),
        ("INSERT INTO t SELECT 1", "read-only SELECT"),
        ("SYSTEM SHUTDOWN", "read-only SELECT"),
        ("SELECT 1\0", "NUL"),
    ],
)
def test_select_body_refuses(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        select_body(text)
