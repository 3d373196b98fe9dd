"""The test helper expands macros and variables exactly as the ClickHouse plugin and Grafana do
(pkg/macros/macros.go and the frontend's applyConditionalAll), and refuses anything it cannot."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.dashboards.grafana import ALL, Context, conditional_all, expand_macros, render, replace_variables

START = datetime(2026, 11, 1, tzinfo=UTC)  # 1793491200
END = datetime(2026, 11, 2, 12, 30, tzinfo=UTC)  # 1793622600


def ctx(**variables) -> Context:
    return Context(START, END, 300, variables)


def test_time_macros_match_the_plugin():
    c = ctx()
    assert (
        expand_macros("$__timeFilter(ts)", c)
        == "ts >= toDateTime(1793491200) AND ts <= toDateTime(1793622600)"
    )
    assert expand_macros("$__timeFilter_ms(ts)", c) == (
        "ts >= fromUnixTimestamp64Milli(1793491200000) AND ts <= fromUnixTimestamp64Milli(1793622600000)"
    )
    assert expand_macros("$__fromTime, $__toTime", c) == "toDateTime(1793491200), toDateTime(1793622600)"
    assert expand_macros("$__timeInterval(ts)", c) == "toStartOfInterval(toDateTime(ts), INTERVAL 300 second)"
    assert expand_macros("x / $__interval_s", c) == "x / 300"
    assert expand_macros("$__dateFilter(d)", c) == "d >= toDate('2026-11-01') AND d <= toDate('2026-11-02')"
    assert expand_macros("$__interval_s", Context(START, END, 0, {})) == "1"  # at least one second


def test_macros_refuse_what_old_plugin_versions_would_expand_differently():
    with pytest.raises(ValueError, match="plain column"):
        expand_macros("$__timeFilter(toDateTime(ts))", ctx())
    with pytest.raises(ValueError, match="unknown macro"):
        expand_macros("$__timeGroup(ts, '1h')", ctx())
    with pytest.raises(ValueError, match="needs a column"):
        expand_macros("$__timeFilter AND 1", ctx())


def test_conditional_all_follows_the_frontend():
    sql = "WHERE $__conditionalAll(k IN (${k:singlequote}), $k) AND $__conditionalAll(v = 1, $v)"
    assert conditional_all(sql, {"k": ALL, "v": "x"}) == "WHERE 1=1 AND v = 1"
    assert conditional_all(sql, {"k": ["a", "b"], "v": ""}) == "WHERE k IN (${k:singlequote}) AND 1=1"
    assert conditional_all(sql, {"k": [ALL], "v": "x"}).startswith("WHERE 1=1 AND")
    with pytest.raises(ValueError, match="plain \\$variable"):
        conditional_all("$__conditionalAll(a, ${k:singlequote})", {"k": "x"})


def test_variables_and_formats():
    c = ctx(k=["a", "it's"], n="3", db="d1")
    assert replace_variables("${db}.t WHERE k IN (${k:singlequote}) LIMIT $n", c) == (
        "d1.t WHERE k IN ('a','it\\'s') LIMIT 3"
    )
    assert replace_variables("$__from-$__to", c) == "1793491200000-1793622600000"
    assert replace_variables("$__timeFilter(ts)", c) == "$__timeFilter(ts)"  # left for the backend
    with pytest.raises(ValueError, match="undefined"):
        replace_variables("$missing", c)
    with pytest.raises(ValueError, match="needs a format"):
        replace_variables("IN ($k)", c)
    with pytest.raises(ValueError, match="conditionalAll"):
        replace_variables("= ${k:singlequote}", ctx(k=ALL))


def test_render_runs_the_three_steps_in_order():
    sql = "SELECT 1 FROM ${db}.t WHERE $__conditionalAll(k IN (${k:singlequote}), $k) AND $__timeFilter(ts)"
    assert render(sql, ctx(db="d", k=ALL)) == (
        "SELECT 1 FROM d.t WHERE 1=1 AND ts >= toDateTime(1793491200) AND ts <= toDateTime(1793622600)"
    )
    assert "k IN ('x')" in render(sql, ctx(db="d", k="x"))
