"""``otel-impact collect`` argument handling and documented exit codes (serving is tested elsewhere)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from otel_impact.cli.main import cli


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
