"""The dashboard JSON is a valid Grafana dashboard model for the ClickHouse plugin, reads only the
exporter-layout tables and our impact_* objects, takes impact.* data only from the deduplicated
views, and is what dashboards/build.py generates."""

from __future__ import annotations

import importlib.util
import re
import sys
from typing import Any
from urllib.parse import parse_qs, urlparse

from otel_impact import semconv
from tests.conftest import REPO
from tests.dashboards.conftest import load_boards
from tests.dashboards.runner import queries

PLUGIN = "grafana-clickhouse-datasource"
ALLOWED_TABLES = set(semconv.EXPORTER_TABLES) | {
    "impact_metrics_latest",
    "impact_events_latest",
    "impact_predictions_typed",
    "impact_events_typed",
    "impact_annotations",
    "impact_job_state",
}
DEDUP_ONLY = {"otel_metrics_gauge", "otel_logs", "impact_events_typed"}  # where raw impact.* rows live
TIME_MACROS = ("$__timeFilter(", "$__fromTime", "$__toTime")


def _panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in board["panels"] if p["type"] != "row"]


def test_five_dashboards_with_unique_uids_and_the_model_fields():
    boards = load_boards()
    assert set(boards) == {
        "model-business.json",
        "segments.json",
        "attribution-roi.json",
        "incidents-quality.json",
        "instrumentation-health.json",
    }
    uids = [b["uid"] for b in boards.values()]
    assert len(set(uids)) == 5 and all(len(u) <= 40 for u in uids)
    for name, b in boards.items():
        assert isinstance(b["schemaVersion"], int) and b["schemaVersion"] >= 36, name
        assert b["title"] and b["time"]["from"] and "list" in b["templating"] and "list" in b["annotations"]
        variables = {v["name"]: v for v in b["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == PLUGIN
        assert variables["database"]["type"] == "query"
        ids = [p["id"] for p in b["panels"]]
        assert len(ids) == len(set(ids)), f"{name}: duplicate panel ids"
        for p in b["panels"]:
            pos = p["gridPos"]
            assert pos["x"] + pos["w"] <= 24 and pos["h"] > 0, (name, p["title"])


def test_every_panel_query_annotation_and_variable_has_the_datasource():
    ds = {"type": PLUGIN, "uid": "${datasource}"}
    for name, b in load_boards().items():
        for p in _panels(b):
            assert p["datasource"] == ds, (name, p["title"])
            assert p["targets"], (name, p["title"])
            for t in p["targets"]:
                assert t["datasource"] == ds and t["editorType"] == "sql" and t["rawSql"].strip()
                assert t["format"] == (0 if p["type"] == "timeseries" else 1), (name, p["title"])
        for a in b["annotations"]["list"]:
            if not a.get("builtIn"):
                assert a["datasource"] == ds and a["target"]["format"] == 1
        for v in b["templating"]["list"]:
            if v["type"] == "query":
                assert v["datasource"] == ds


def _tables(sql: str) -> set[str]:
    return set(re.findall(r"\$\{database\}\.(\w+)", sql))


def test_queries_read_only_exporter_tables_and_our_impact_objects():
    seen: set[str] = set()
    for name, b in load_boards().items():
        for q in queries(b):
            tables = _tables(q.sql)
            seen |= tables
            assert tables <= ALLOWED_TABLES, (name, q.where, tables - ALLOWED_TABLES)
            # every FROM / JOIN names ${database}.table, a subquery, or (for the database list) system.tables
            for target in re.findall(r"(?:\bFROM|(?<!ARRAY )\bJOIN)\s+(\S+)", q.sql):
                assert target.startswith(("${database}.", "(")) or (
                    q.where == "variable database" and target == "system.tables"
                ), (name, q.where, target)
    assert {"impact_metrics_latest", "impact_events_latest", "otel_traces", "otel_metrics_sum"} <= seen


def test_impact_results_come_only_from_the_deduplicated_views():
    for name, b in load_boards().items():
        for q in queries(b):
            raw = _tables(q.sql) & DEDUP_ONLY
            if not raw:
                continue
            rest = re.sub(r"NOT startsWith\(\w+, 'impact\.'\)", "", q.sql)
            assert "'impact." not in rest, (
                f"{name} {q.where} reads impact.* from {raw}: use the *_latest views"
            )


def test_panels_are_bounded_by_the_dashboard_time_range():
    for name, b in load_boards().items():
        for q in queries(b):
            if q.kind == "variable" and not _tables(q.sql) & {"impact_predictions_typed"}:
                continue  # lists of names over the deduplicated views
            assert any(m in q.sql for m in TIME_MACROS), f"{name} {q.where} ignores the time range"


def test_drill_down_links_open_existing_dashboards_with_existing_variables():
    boards = {b["uid"]: b for b in load_boards().values()}
    links = 0
    for b in boards.values():
        for p in _panels(b):
            for o in p["fieldConfig"]["overrides"]:
                for prop in o["properties"]:
                    if prop["id"] != "links":
                        continue
                    for link in prop["value"]:
                        url = urlparse(link["url"])
                        uid = url.path.split("/")[2]
                        assert uid in boards, link["url"]
                        target_vars = {v["name"] for v in boards[uid]["templating"]["list"]}
                        for key in parse_qs(url.query):
                            if key.startswith("var-"):
                                assert key[4:] in target_vars, (link["url"], key)
                        links += 1
    assert links >= 3


def test_committed_files_are_what_the_generator_builds():
    spec = importlib.util.spec_from_file_location("dashboards_build", REPO / "dashboards" / "build.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["dashboards_build"] = module
    spec.loader.exec_module(module)
    for path, text in module.outputs().items():
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale: run python dashboards/build.py"
