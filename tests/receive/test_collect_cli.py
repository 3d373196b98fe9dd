"""``otel-impact collect``: argument handling, exit codes, the in-process analyzer schedule."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from otel_impact.cli.collect import AnalyzerSchedule
from otel_impact.cli.main import cli
from otel_impact.errors import ConfigError
from tests.conftest import REPO


def test_both_protocols_off_is_a_config_error() -> None:
    result = CliRunner().invoke(cli, ["collect", "--http", "off", "--grpc", "off"])
    assert result.exit_code == 2
    assert "--http" in result.output


def test_tls_needs_cert_and_key(tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("x")
    result = CliRunner().invoke(cli, ["collect", "--tls-cert", str(cert)])
    assert result.exit_code == 2
    assert "--tls-key" in result.output


def test_empty_token_file_is_a_config_error(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("\n")
    result = CliRunner().invoke(cli, ["collect", "--auth-token-file", str(token)])
    assert result.exit_code == 2
    assert "--auth-token-file" in result.output


def test_port_in_use_is_a_receiver_error(store: Any) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(
            cli,
            [
                "collect",
                "--dsn",
                "chdb://memory",
                "--database",
                store.database,
                "--http",
                f"127.0.0.1:{port}",
                "--grpc",
                "off",
            ],
        )
    assert result.exit_code == 4, result.output
    assert str(port) in result.output


def test_analyzer_schedule_repeats_and_survives_failures() -> None:
    calls: list[int] = []
    messages: list[str] = []
    done = threading.Event()

    def run() -> str:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("stage exploded")
        if len(calls) >= 3:
            done.set()
        return f"run {len(calls)}"

    schedule = AnalyzerSchedule(run, 0.02, messages.append)
    schedule.start()
    assert done.wait(10)
    schedule.stop(timeout=5)
    n = len(calls)
    time.sleep(0.1)
    assert len(calls) == n  # stopped
    assert schedule.failures == 1 and schedule.runs == n - 1
    assert messages[0] == "analysis run ok: run 1"
    assert messages[1] == "analysis run failed: stage exploded"


def test_analyzer_schedule_needs_a_positive_interval() -> None:
    with pytest.raises(ConfigError, match="--analyze-every"):
        AnalyzerSchedule(lambda: "", 0, print)


def test_collect_runs_the_analyzer_in_process_on_the_same_embedded_store(tmp_path: Path) -> None:
    config = tmp_path / "impact.yaml"
    config.write_text(
        "business_metrics:\n  - name: purchase\n    source: {event: business.purchase}\nexport: {enabled: false}\n"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from otel_impact.cli import main; main()", "collect", "--dsn",
         f"chdb://{tmp_path / 'db'}", "--http", "127.0.0.1:0", "--grpc", "off",
         "--analyze-config", str(config), "--analyze-every", "1s"],
        stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert proc.stderr is not None
    seen: list[str] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        if line.startswith("analysis run"):
            break
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 0
    assert any(line.startswith("analysis run ok: run ") for line in seen), "".join(seen)
