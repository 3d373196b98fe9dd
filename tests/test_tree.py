"""Metric tree: status from the store, latest values, parent↔child Pearson against scipy, CLI."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from scipy import stats

from otel_impact import semconv as sc
from otel_impact.cli.main import cli
from otel_impact.config import config_from_dict
from otel_impact.errors import StoreError
from otel_impact.tree import LIVE, NEEDS_DATA, NO_SOURCE, measure_tree, pearson_aligned, render_tree

NOW = datetime(2026, 11, 20, tzinfo=UTC)
DAYS = 20
RNG = np.random.default_rng(7)
ORDERS = RNG.poisson(40, DAYS) + np.arange(DAYS)  # hourly purchase counts (all in one day: one partition)
PREDICTIONS = ORDERS + RNG.integers(0, 10, DAYS)  # prediction volume tracks purchases
SCORES = 0.5 + 0.01 * RNG.standard_normal(DAYS)

TREE = {
    "bucket": "1h",
    "lookback": f"{DAYS}h",
    "live_within": "3h",
    "root": {
        "name": "revenue", "kind": "north_star", "owner": "cfo", "dashboard": "https://grafana/d/rev",
        "source": {"event": "business.purchase", "agg": "sum"},
        "children": [
            {"name": "orders", "source": {"event": "business.purchase", "agg": "count"},
             "children": [
                 {"name": "rec volume", "kind": "model", "source": {"model": "rec", "agg": "count"}},
                 {"name": "rec score", "kind": "model", "source": {"model": "rec", "agg": "mean"}},
                 {"name": "gpu cost", "kind": "cost", "source": {"metric": "infra.gpu.cost"}},
             ]},
            {"name": "signups", "source": {"sql": "SELECT ts, value FROM signups_table"}},
            {"name": "nps", "kind": "product"},
        ],
    },
}  # fmt: skip


def load(client: Any) -> None:
    logs, spans = [], []
    for d in range(DAYS):
        day = NOW - timedelta(hours=DAYS - d) + timedelta(minutes=1)
        for i in range(int(ORDERS[d])):
            attrs = {sc.BUSINESS_VALUE: str(10.0 + (i % 5)), sc.USER_ID: f"u{i}"}
            logs.append([day + timedelta(seconds=i), "svc", attrs, sc.business_event("purchase")])
        for i in range(int(PREDICTIONS[d])):
            attrs = {
                sc.ML_MODEL_NAME: "rec",
                sc.ML_MODEL_VERSION: "1",
                sc.ML_PREDICTION_SCORE: str(SCORES[d]),
            }
            spans.append(
                [day + timedelta(seconds=i), f"{d:016x}{i:016x}", f"{i:016x}", "predict rec", "svc", attrs]
            )
    client.insert("otel_logs", logs, column_names=["Timestamp", "ServiceName", "LogAttributes", "EventName"])
    client.insert("otel_traces", spans,
                  column_names=["Timestamp", "TraceId", "SpanId", "SpanName", "ServiceName", "SpanAttributes"])  # fmt: skip
    # a cost metric that stopped 10 hours ago: Needs data
    client.insert("otel_metrics_gauge",
                  [["infra.gpu.cost", NOW - timedelta(hours=DAYS - d), float(d)] for d in range(DAYS - 10)],
                  column_names=["MetricName", "TimeUnix", "Value"])  # fmt: skip
    client.command(
        "CREATE TABLE signups_table (ts DateTime64(3, 'UTC'), value Float64) ENGINE = MergeTree ORDER BY ts"
    )
    client.insert("signups_table", [[NOW - timedelta(minutes=30), 3.0]], column_names=["ts", "value"])


def test_status_latest_and_correlations_against_scipy(store: Any) -> None:
    load(store)
    cfg = config_from_dict({"tree": TREE})
    root = measure_tree(store, cfg.tree, NOW)
    assert root is not None
    nodes = {n.name: n for _, n in root.walk()}
    assert nodes["revenue"].status == LIVE and nodes["revenue"].owner == "cfo"
    assert nodes["gpu cost"].status == NEEDS_DATA
    assert nodes["nps"].status == NO_SOURCE
    assert nodes["signups"].status == LIVE and nodes["signups"].latest == 3.0
    assert nodes["orders"].latest == ORDERS[-1]
    assert nodes["rec volume"].latest == pytest.approx(PREDICTIONS[-1])
    assert nodes["rec score"].latest == pytest.approx(SCORES[-1])
    # revenue (sum of values) vs orders (count), hourly
    revenue = np.array([sum(10.0 + (i % 5) for i in range(int(n))) for n in ORDERS])
    expected = stats.pearsonr(revenue, ORDERS)
    corr = nodes["orders"].parent_correlation
    assert corr is not None and corr.n == DAYS
    assert corr.estimate == pytest.approx(expected.statistic, abs=1e-9)
    assert corr.pvalue == pytest.approx(expected.pvalue, rel=1e-6)
    vol = nodes["rec volume"].parent_correlation
    assert vol is not None and vol.estimate == pytest.approx(
        stats.pearsonr(ORDERS, PREDICTIONS).statistic, abs=1e-9
    )
    # one shared bucket only → NaN, not a crash
    assert nodes["signups"].parent_correlation is not None and math.isnan(
        nodes["signups"].parent_correlation.estimate
    )
    lines = render_tree(root)
    assert lines[0].startswith("revenue [north_star]  Live")
    assert any(line.startswith("│  ├─ rec volume [model]") for line in lines)
    assert any("Needs data" in line and "gpu cost" in line for line in lines)
    json.dumps(root.to_json())  # JSON-able (NaN → null)
    assert root.to_json()["children"][1]["parent_correlation"]["estimate"] is None


def test_pearson_aligned_uses_shared_buckets_only() -> None:
    a = {1: 1.0, 2: 2.0, 3: 3.0, 4: 4.0, 5: float("nan")}
    b = {2: 1.0, 3: 3.0, 4: 2.0, 5: 9.0, 6: 1.0}
    got = pearson_aligned(a, b)
    ref = stats.pearsonr([2.0, 3.0, 4.0], [1.0, 3.0, 2.0])
    assert got.n == 3 and got.estimate == pytest.approx(ref.statistic)
    with pytest.warns(RuntimeWarning):
        assert math.isnan(pearson_aligned({1: 1.0, 2: 1.0, 3: 1.0}, {1: 1.0, 2: 2.0, 3: 3.0}).estimate)


def test_missing_table_names_node_and_table(db_client: Any) -> None:
    cfg = config_from_dict({"tree": {"root": {"name": "revenue", "source": {"event": "business.purchase"}}}})
    with pytest.raises(StoreError, match=r"revenue.*impact_events"):
        measure_tree(db_client, cfg.tree, NOW)


def test_missing_column_in_sql_source_is_named(store: Any) -> None:
    store.command("CREATE TABLE s2 (ts DateTime, amount Float64) ENGINE = MergeTree ORDER BY ts")
    cfg = config_from_dict({"tree": {"root": {"name": "x", "source": {"sql": "SELECT ts, amount FROM s2"}}}})
    with pytest.raises(StoreError, match=r"'x'.*value"):
        measure_tree(store, cfg.tree, NOW)


def test_config_errors_name_the_dotted_key() -> None:
    with pytest.raises(ValueError, match=r"tree\.root\.children\[0\]\.source"):
        config_from_dict(
            {
                "tree": {
                    "root": {"name": "a", "children": [{"name": "b", "source": {"event": "e", "sql": "s"}}]}
                }
            }
        )
    with pytest.raises(ValueError, match=r"tree: .*repeated: a"):
        config_from_dict({"tree": {"root": {"name": "a", "children": [{"name": "a"}]}}})
    with pytest.raises(ValueError, match=r"tree\.root\.kind"):
        config_from_dict({"tree": {"root": {"name": "a", "kind": "galaxy"}}})


def test_cli_tree(store: Any, tmp_path: Path) -> None:
    load(store)
    import yaml

    path = tmp_path / "impact.yaml"
    path.write_text(yaml.safe_dump({"tree": TREE}), encoding="utf-8")
    args = [
        "tree",
        "--config",
        str(path),
        "--dsn",
        "chdb://memory",
        "--database",
        store.database,
        "--now",
        "2026-11-20T00:00:00Z",
    ]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert "revenue [north_star]  Live" in res.stdout and "Needs data" in res.stdout
    res_json = CliRunner().invoke(cli, [*args, "--json"])
    assert json.loads(res_json.stdout)["name"] == "revenue"
    empty = tmp_path / "empty.yaml"
    empty.write_text("{}", encoding="utf-8")
    res = CliRunner().invoke(cli, ["tree", "--config", str(empty)])
    assert res.exit_code == 2 and "tree.root" in res.stderr
