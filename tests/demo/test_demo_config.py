"""The demo's impact.yaml and its handling of config sections a build may not have."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from results import recorded

from otel_impact.cli.main import cli
from otel_impact.config import load_config_text
from otel_impact.demo.impact_config import config_yaml, demo_config_data, validated_config
from otel_impact.demo.run import DemoOptions, _prepare_database
from otel_impact.demo.world import WorldParams
from otel_impact.errors import ConfigError

PARAMS = WorldParams(users=100, days=30)


def test_demo_config_is_valid_and_round_trips_through_yaml():
    data = demo_config_data(PARAMS, database="demo", endpoint="http://127.0.0.1:4318")
    cfg = validated_config(data)
    assert (
        cfg.business_metric("purchase").window == 3 * 86400 and cfg.business_metric("purchase").value == "sum"
    )
    assert cfg.business_metric("subscription").window == 30 * 86400
    assert cfg.business_metric("subscription").value == "count"
    assert cfg.segments == ("platform", "tenure", "market")
    assert (
        cfg.rollout_impact.segment_key == "market" and cfg.rollout_impact.rollouts[0].segments["de"].day == 10
    )
    text = config_yaml(data, path="demo-out/impact.yaml", database="demo")
    assert text.startswith("# impact.yaml written by `otel-impact demo`")
    assert load_config_text(text) == cfg


def test_lineage_and_experiment_name_the_planted_objects():
    t = PARAMS.truth
    data = demo_config_data(PARAMS, database="demo", endpoint=None)
    assert data["lineage"]["datasets"][t.dataset]["pipelines"] == [t.pipeline]
    assert t.feature in data["lineage"]["models"][t.model]["features"]
    assert data["export"] == {"endpoint": "store"}  # reusable without the demo's receiver
    assert data["job"]["lookback"] == "30d"  # an incremental re-run covers the simulated period
    rollout = PARAMS.start + timedelta(days=t.rollout_day)
    assert data["kpi"]["rollout"] == rollout.isoformat().replace("+00:00", "Z")


def test_a_bad_section_is_a_config_error_naming_it():
    data = demo_config_data(PARAMS, database="demo", endpoint=None) | {"future_stage": {"x": 1}}
    with pytest.raises(ConfigError, match="future_stage"):
        validated_config(data)
    data = demo_config_data(PARAMS, database="demo", endpoint=None)
    data["correlation"] = {"max_lag": -1}
    with pytest.raises(ConfigError, match="correlation"):
        validated_config(data)


def test_options_reject_bad_sizes():
    with pytest.raises(ValueError, match="users"):
        DemoOptions(users=3).params()


def test_prepare_refuses_a_foreign_database_that_is_not_empty(db_client: Any):
    db_client.command("CREATE TABLE keep_me (x UInt8) ENGINE = Memory")
    with pytest.raises(ConfigError, match="already holds"):
        _prepare_database(db_client, db_client.database, lambda _: None)
    assert db_client.command("SELECT count() FROM system.tables WHERE database = currentDatabase()") == 1


def test_prepare_recreates_its_own_database(db_client: Any):
    name = "otel_impact_demo_" + db_client.database
    db_client.command(f"CREATE DATABASE {name}")
    db_client.command(f"CREATE TABLE {name}.old (x UInt8) ENGINE = Memory")
    said: list[str] = []
    try:
        _prepare_database(db_client, name, said.append)
        left = db_client.query(
            "SELECT count() FROM system.tables WHERE database = {d:String}", parameters={"d": name}
        )
        assert left.result_rows[0][0] == 0
        assert said and "dropped" in said[0]
    finally:
        db_client.command(f"DROP DATABASE IF EXISTS {name} SYNC")


def test_prepare_rejects_a_bad_database_name(db_client: Any):
    with pytest.raises(ConfigError, match="--database"):
        _prepare_database(db_client, "x; DROP", lambda _: None)


def test_cli_help_and_bad_option_exit_codes():
    runner = CliRunner()
    result = runner.invoke(cli, ["demo", "--help"])
    assert result.exit_code == 0 and "--users" in result.output and "--out" in result.output
    result = runner.invoke(cli, ["demo", "--days", "2"])
    assert result.exit_code == 2  # below the minimum of 7 days
    result = runner.invoke(cli, ["demo", "--database", "bad name", "--dsn", "chdb://memory"])
    assert result.exit_code == 2 and "error: --database" in result.output


def test_a_failing_stage_is_skipped_and_reported(monkeypatch: pytest.MonkeyPatch):
    from datetime import UTC, datetime

    from otel_impact import pipeline
    from otel_impact.config import ImpactConfig
    from otel_impact.demo.run import _stage_by_stage

    def boom(ctx: Any) -> None:
        raise RuntimeError("not ready")

    def fine(ctx: Any) -> None:  # writes a recorded section with an undefined number
        ctx.result["stitching"] = [{**recorded()["stitching"][0], "value_total": float("nan")}]

    from otel_impact.stages.graph import Stage

    monkeypatch.setattr(pipeline, "STAGES", (Stage("boom", boom), Stage("stitching", fine)))
    failures: list[str] = []
    said: list[str] = []
    window = pipeline.Window(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC))
    ran: list[str] = []
    result = _stage_by_stage(failures, said.append)(None, ImpactConfig(), window, progress=ran.append)
    assert ran == ["boom", "stitching"]
    assert result.stitching[0].value_total is None  # later stages still run; JSON-safe
    assert failures and "boom" in failures[0] and "not ready" in failures[0]
    assert said == failures and result.warnings == failures


def test_an_unwritable_output_directory_is_a_config_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = CliRunner().invoke(cli, ["demo", "--out", str(blocker / "out"), "--dsn", "chdb://memory"])
    assert result.exit_code == 2 and "error: --out" in result.output
