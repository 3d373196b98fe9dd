"""connect(): DSN parsing, password sources, and one clear StoreError per failure."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from otel_impact import semconv
from otel_impact.cli.main import cli
from otel_impact.errors import StoreError
from otel_impact.store import connect, default_dsn, parse_dsn

CLI = [sys.executable, "-c", "from otel_impact.cli import main; main()"]


def test_parse_embedded_dsns(tmp_path: Path) -> None:
    assert parse_dsn("chdb://memory").path is None
    assert parse_dsn("chdb://memory").embedded
    assert parse_dsn(f"chdb://{tmp_path}/db/").path == str(tmp_path / "db")


def test_parse_server_dsn_keeps_password_out_of_display() -> None:
    dsn = parse_dsn("https://alice:s%40cret@ch.example:8443/otel")
    assert (dsn.scheme, dsn.username, dsn.password, dsn.database) == ("https", "alice", "s@cret", "otel")
    assert dsn.display() == "https://ch.example:8443"
    assert "cret" not in dsn.display()


@pytest.mark.parametrize(
    ("dsn", "message"),
    [
        ("postgres://x", "unknown scheme"),
        ("chdb://relative/path", "must be absolute"),
        ("http://", "no host"),
        ("http://h:99999999", "bad port"),
        ("nonsense", "unknown scheme"),
    ],
)
def test_bad_dsn_is_one_store_error(dsn: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        parse_dsn(dsn)


def test_default_dsn_is_absolute_local_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(semconv.ENV_CLICKHOUSE_DSN, raising=False)
    monkeypatch.chdir(tmp_path)
    assert default_dsn() == f"chdb://{tmp_path / semconv.DEFAULT_DB_PATH}"
    monkeypatch.setenv(semconv.ENV_CLICKHOUSE_DSN, "chdb://memory")
    assert default_dsn() == "chdb://memory"


def _capture_server_kwargs(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    import clickhouse_connect

    seen: dict[str, Any] = {}

    class FakeClient:
        database: str | None = None

        def command(self, sql: str, parameters: dict[str, Any] | None = None) -> int:
            seen.setdefault("commands", []).append(sql)
            return 1

    def fake_get_client(**kwargs: Any) -> FakeClient:
        seen.update(kwargs)
        return FakeClient()

    monkeypatch.setattr(clickhouse_connect, "get_client", fake_get_client)
    return seen


def test_password_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _capture_server_kwargs(monkeypatch)
    monkeypatch.delenv(semconv.ENV_CLICKHOUSE_PASSWORD_FILE, raising=False)
    monkeypatch.setenv(semconv.ENV_CLICKHOUSE_PASSWORD, "from-env")
    client = connect("http://bob:in-dsn@h:8123/otel")
    assert seen["password"] == "from-env"
    assert seen["username"] == "bob"
    assert client.database == "otel"  # the DSN's database, checked to exist, then selected
    assert "in-dsn" not in seen["dsn"]


def test_password_from_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen = _capture_server_kwargs(monkeypatch)
    secret = tmp_path / "pw"
    secret.write_text("from-file\n")
    monkeypatch.delenv(semconv.ENV_CLICKHOUSE_PASSWORD, raising=False)
    monkeypatch.setenv(semconv.ENV_CLICKHOUSE_PASSWORD_FILE, str(secret))
    client = connect("http://h:8123", database="db2", create_database=True)
    assert seen["password"] == "from-file"
    assert client.database == "db2"
    assert "CREATE DATABASE IF NOT EXISTS `db2`" in seen["commands"]
    monkeypatch.setenv(semconv.ENV_CLICKHOUSE_PASSWORD_FILE, str(tmp_path / "missing"))
    with pytest.raises(StoreError, match="password file"):
        connect("http://h:8123")


def test_unreachable_server_fails_fast() -> None:
    started = time.monotonic()
    with pytest.raises(
        StoreError, match=re.escape("cannot connect to ClickHouse at http://127.0.0.1:1: Connection refused")
    ):
        connect("http://127.0.0.1:1")
    assert time.monotonic() - started < 10


def test_memory_dsn_joins_the_process_engine(db_client: Any) -> None:
    client = connect("chdb://memory", database=db_client.database)
    assert client.command("SELECT currentDatabase()") == db_client.database


def test_missing_database_is_a_store_error(engine_client: Any) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        connect("chdb://memory", database="no_such_db_" + uuid.uuid4().hex[:8])


def test_second_engine_path_in_process_is_a_clear_error(engine_client: Any, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="already runs the embedded engine on chdb://memory") as info:
        connect(f"chdb://{tmp_path}/other")
    assert "one engine per process" in str(info.value)


# --- the CLI: one `error:` line, no traceback, non-zero exit ---------------------------------


def test_cli_apply_twice_second_is_a_no_op(engine_client: Any) -> None:
    name = "t_" + uuid.uuid4().hex[:12]
    runner = CliRunner()
    try:
        first = runner.invoke(cli, ["schema", "apply", "--dsn", "chdb://memory", "--database", name])
        assert first.exit_code == 0, first.output
        assert "created  otel_traces" in first.output
        second = runner.invoke(cli, ["schema", "apply", "--dsn", "chdb://memory", "--database", name])
        assert second.exit_code == 0, second.output
        assert "nothing to do" in second.output
        assert "created" not in second.output
    finally:
        engine_client.command(f"DROP DATABASE IF EXISTS {name} SYNC")


def test_cli_dry_run_renders_cluster_ddl() -> None:
    result = CliRunner().invoke(cli, ["schema", "apply", "--dry-run", "--cluster", "c1", "--ttl", "7d"])
    assert result.exit_code == 0, result.output
    assert "ReplicatedAggregatingMergeTree(" in result.output
    assert "TTL toDateTime(Timestamp) + toIntervalDay(7)" in result.output


@pytest.mark.parametrize(("kind", "index_type"), [("bloom", "bloom_filter(0.001)"), ("text", "text(")])
def test_cli_index_kind_picks_the_skip_index_branch(kind: str, index_type: str) -> None:
    result = CliRunner().invoke(cli, ["schema", "apply", "--dry-run", "--index-kind", kind])
    assert result.exit_code == 0, result.output
    assert f"INDEX idx_trace_id TraceId TYPE {index_type}" in result.output


def test_cli_bad_ttl_names_the_option() -> None:
    result = CliRunner().invoke(cli, ["schema", "apply", "--dry-run", "--ttl", "soon"])
    assert result.exit_code == 2
    assert "--ttl" in result.output


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.mark.parametrize(
    ("dsn", "expected"),
    [("mysql://h/db", "unknown scheme"), ("http://127.0.0.1:1", "Connection refused")],
)
def test_cli_bad_dsn_and_unreachable_server(dsn: str, expected: str) -> None:
    result = CliRunner().invoke(cli, ["schema", "apply", "--dsn", dsn])
    assert result.exit_code == 3
    assert result.stdout == ""
    assert expected in _one_error_line(result.stderr)


def test_cli_locked_chdb_path_names_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "db"
    holder_code = textwrap.dedent(
        f"""
        import sys, time, clickhouse_connect
        client = clickhouse_connect.get_client(dsn="chdb://{path}")
        client.command("SELECT 1")
        print("ready", flush=True)
        time.sleep(120)
        """
    )
    holder = subprocess.Popen([sys.executable, "-c", holder_code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ready"
        proc = subprocess.run(
            [*CLI, "schema", "apply", "--dsn", f"chdb://{path}"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode == 3
    line = _one_error_line(proc.stderr)
    assert f"in use by process {holder.pid}" in line
    assert "otel-impact collect --analyze-config" in line
    assert str(path) in line


def test_memory_dsn_may_name_the_database(db_client: Any) -> None:
    assert parse_dsn("chdb://memory/otel").database == "otel"
    client = connect(f"chdb://memory/{db_client.database}")
    assert client.command("SELECT currentDatabase()") == db_client.database


def test_cli_apply_creates_the_dsn_database(engine_client: Any) -> None:
    name = "t_" + uuid.uuid4().hex[:12]
    try:
        result = CliRunner().invoke(cli, ["schema", "apply", "--dsn", f"chdb://memory/{name}"])
        assert result.exit_code == 0, result.output
        assert f"schema applied to {name}:" in result.output
    finally:
        engine_client.command(f"DROP DATABASE IF EXISTS {name} SYNC")
