"""Results always land somewhere: the store destination and the export watermark.

``export.endpoint: store`` (the default without an OTLP endpoint) writes the rows the OTLP path
writes — compared here row for row against a real OTLP export through the embedded receiver.
A run that exports nothing (``--no-export``, ``export.enabled: false``) leaves the watermark
alone, so a later exporting run still covers its period.
"""

from __future__ import annotations

import re
import socket
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from otel_impact.config import config_from_dict
from otel_impact.config.job import ExportSection
from otel_impact.errors import ConfigError, ExportError
from otel_impact.export.otlp import OtlpResultExporter
from otel_impact.export.points import result_events, result_points
from otel_impact.export.store import StoreResultExporter, destination
from otel_impact.job import read_watermark, run_job
from otel_impact.pipeline import Window, parse_iso
from otel_impact.records import Result
from otel_impact.report.digest import build_digest

sys.path.insert(0, str(Path(__file__).parent / "export"))
from otlp_sink import receiver
from results import RECORDED_WINDOW as WINDOW
from results import full_record, full_result

T0 = parse_iso(WINDOW["start"])
T1 = parse_iso(WINDOW["end"])


def fake_analyze(calls: list[Window] | None = None) -> Any:
    def analyze(client: Any, config: Any, window: Window, **kw: Any) -> Any:
        if calls is not None:
            calls.append(window)
        return full_record(window.to_json())

    return analyze


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


GAUGE = "SELECT * EXCEPT (ResourceSchemaUrl) FROM otel_metrics_gauge ORDER BY ALL"
LOGS = "SELECT * FROM otel_logs ORDER BY ALL"


@pytest.fixture()
def second_store(engine_client: Any) -> Iterator[Any]:
    """Another database with the full schema (the OTLP path's side of the comparison)."""
    import clickhouse_connect

    from otel_impact.store import apply_schema

    name = "t_" + uuid.uuid4().hex[:12]
    engine_client.command(f"CREATE DATABASE {name}")
    client = clickhouse_connect.get_client(dsn=_dsn(), database=name)
    apply_schema(client, database=name)
    try:
        yield client
    finally:
        engine_client.command(f"DROP DATABASE IF EXISTS {name} SYNC")


def _dsn() -> str:
    import os

    from otel_impact import semconv

    return os.environ.get(semconv.ENV_TEST_CLICKHOUSE_DSN) or "chdb://memory"


def cfg(**export: Any) -> Any:
    return config_from_dict({"export": export, "job": {"lookback": "6h", "first_run": "4d"}})


def test_store_destination_writes_the_rows_the_otlp_export_writes(store: Any, second_store: Any) -> None:
    doc = full_result(Window(T0, T1).to_json())
    result = Result.from_json(doc)
    points, events = result_points(result, run_id="r1"), result_events(result, run_id="r1")
    assert len(points) > 30 and len(events) == len(doc["alerts"]) + len(doc["incidents"])
    settings = ExportSection(timeout=30.0, retries=1)
    summary = StoreResultExporter(store, settings).export(points, events)
    assert (summary.points, summary.events, summary.endpoint) == (len(points), len(events), "store")
    with receiver(second_store) as rx:
        otlp = OtlpResultExporter(settings, endpoint=str(rx.endpoints.http))
        try:
            otlp.export(points, events)
        finally:
            otlp.shutdown()
        rx.flush()
    direct, via_otlp = store.query(GAUGE).result_rows, second_store.query(GAUGE).result_rows
    assert len(direct) == len(points)
    assert direct == via_otlp
    assert store.query(LOGS).result_rows == second_store.query(LOGS).result_rows
    # and the dashboards' deduplicated views read them the same way
    view = "SELECT * FROM impact_metrics_latest ORDER BY ALL"
    assert store.query(view).result_rows == second_store.query(view).result_rows != []


def test_destination_defaults_to_the_store_without_an_otlp_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
    ):
        monkeypatch.delenv(name, raising=False)
    assert destination(ExportSection()) == "store"
    assert destination(ExportSection(endpoint="http://collector:4318")) == "otlp"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://collector:4318/v1/logs")
    assert destination(ExportSection()) == "otlp"
    assert destination(ExportSection(endpoint="store")) == "store"
    with pytest.raises(ConfigError, match=r"export\.endpoint"):
        config_from_dict({"export": {"endpoint": "stor"}})


def test_a_run_without_endpoint_exports_into_the_store(store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", raising=False)
    out = run_job(store, cfg(), since=T0, until=T1, analyze_fn=fake_analyze())
    assert out.exported_points > 30 and out.watermark == T1
    assert store.query("SELECT count() FROM impact_metrics_latest").result_rows[0][0] == out.exported_points
    assert (
        store.query("SELECT count() FROM impact_events_latest").result_rows[0][0] == out.exported_events == 12
    )


def test_failed_otlp_export_names_the_fixes_and_holds_the_watermark(store: Any) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ExportError) as err:
        run_job(
            store, cfg(endpoint=down, timeout="1s", retries=0), since=T0, until=T1, analyze_fn=fake_analyze()
        )
    message = str(err.value)
    for fix in ("--no-export", "export.endpoint: store", "otel-impact collect --analyze-config"):
        assert fix in message
    assert read_watermark(store, "impact") is None


def test_no_export_keeps_the_watermark_so_a_later_export_covers_the_period(store: Any) -> None:
    calls: list[Window] = []
    first = run_job(store, cfg(endpoint="store"), now=T1, analyze_fn=fake_analyze(calls))
    assert first.watermark == T1
    later = T1 + timedelta(days=1)
    skipped = run_job(store, cfg(endpoint="store"), now=later, export=False, analyze_fn=fake_analyze(calls))
    assert skipped.watermark == T1 and skipped.exported_points == 0
    assert read_watermark(store, "impact") == T1  # the unexported day is still ahead of the watermark
    disabled = run_job(store, cfg(enabled=False), now=later, analyze_fn=fake_analyze(calls))
    assert disabled.watermark == T1 and read_watermark(store, "impact") == T1
    status = store.query("SELECT status FROM impact_job_state ORDER BY finished_at").result_rows
    assert [s[0] for s in status] == ["ok", "not_exported", "not_exported"]
    digest = build_digest(store, cfg(), "daily", datetime.now(UTC))
    assert "1 ok, 0 failed, 2 not exported" in digest  # skipping the export is not a failure
    # the next exporting run starts from the last *exported* window end (minus the lookback)
    final = run_job(store, cfg(endpoint="store"), now=T1 + timedelta(days=2), analyze_fn=fake_analyze(calls))
    assert calls[-1] == Window(T1 - timedelta(hours=6), T1 + timedelta(days=2))
    assert final.previous_watermark == T1 and read_watermark(store, "impact") == T1 + timedelta(days=2)


def test_cli_export_endpoint_store_and_no_export(
    store: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from otel_impact import pipeline
    from otel_impact.cli.main import cli

    monkeypatch.setattr(pipeline, "analyze", lambda c, cfg, w, **kw: full_record(w.to_json()))
    config = tmp_path / "impact.yaml"
    config.write_text("export: {endpoint: 'http://127.0.0.1:9', retries: 0}\n", encoding="utf-8")
    base = ["analyze", "--config", str(config), "--dsn", "chdb://memory", "--database", store.database]
    window = ["--since", WINDOW["start"], "--until", WINDOW["end"]]
    skipped = CliRunner().invoke(cli, [*base, *window, "--no-export"])
    assert skipped.exit_code == 0, skipped.output
    assert "results not exported; the job's watermark was not advanced" in skipped.stdout
    assert read_watermark(store, "impact") is None
    stored = CliRunner().invoke(cli, [*base, *window, "--export-endpoint", "store"])
    assert stored.exit_code == 0, stored.output
    assert re.search(r"exported [1-9]\d* point\(s\), 12 event\(s\)", stored.stdout), stored.stdout
    assert store.query("SELECT count() FROM impact_events_latest").result_rows == [(12,)]
    assert read_watermark(store, "impact") == T1
