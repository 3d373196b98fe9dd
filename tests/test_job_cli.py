"""``otel-impact analyze`` routed through the job: options, exit codes, reports, export."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from otel_impact import pipeline
from otel_impact.cli.main import cli
from otel_impact.job import JobLock

sys.path.insert(0, str(Path(__file__).parent / "export"))
from otlp_sink import receiver
from results import RECORDED_WINDOW as WINDOW
from results import recorded_result

from otel_impact.records import Result


@pytest.fixture()
def fake_pipeline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The analysis replaced by its recorded result for the same window (the job around it is real)."""

    def analyze(client: Any, config: Any, window: Any, **kw: Any) -> Result:
        assert window.to_json() == WINDOW
        return recorded_result()

    monkeypatch.setattr(pipeline, "analyze", analyze)


def write_config(tmp_path: Path, text: str = "", timeout: str = "30s") -> Path:
    path = tmp_path / f"impact-{timeout}.yaml"
    path.write_text(
        f"export: {{timeout: {timeout}, retries: 0, retry_backoff: 10ms}}\n" + text, encoding="utf-8"
    )
    return path


def invoke(store: Any, config: Path, *args: str) -> Any:
    base = ["analyze", "--config", str(config), "--dsn", "chdb://memory", "--database", store.database]
    return CliRunner().invoke(cli, [*base, "--since", WINDOW["start"], "--until", WINDOW["end"], *args])


def test_reports_summary_progress_and_fail_on_alert(store: Any, tmp_path: Path, fake_pipeline: None) -> None:
    html, md = tmp_path / "out.html", tmp_path / "out.md"
    res = invoke(store, write_config(tmp_path), "--no-export", "--report", str(html), "--report", str(md),
                 "--fail-on-alert")  # fmt: skip
    assert res.exit_code == 8, res.output
    assert html.exists() and md.exists()
    assert "mean_score → purchase" in res.stdout and "alerts" in res.stdout
    assert f"window {WINDOW['start']} .. {WINDOW['end']}" in res.stderr  # progress lines
    assert invoke(store, write_config(tmp_path), "--no-export").exit_code == 0


def test_export_endpoint_option_and_export_down_exit_6(
    store: Any, tmp_path: Path, fake_pipeline: None
) -> None:
    config = write_config(tmp_path)
    with receiver(store) as rx:
        ok = invoke(
            store, config, "--export-endpoint", rx.endpoints.http, "--export-protocol", "http/protobuf"
        )
        rx.flush()
    assert ok.exit_code == 0, ok.output
    assert "exported" in ok.stdout
    assert store.query("SELECT count() FROM impact_metrics_latest").result_rows[0][0] > 0
    down = invoke(store, write_config(tmp_path, timeout="1s"), "--export-endpoint", "http://127.0.0.1:9")
    assert down.exit_code == 6
    assert "error:" in down.stderr and "watermark was not advanced" in down.stderr


def test_locked_exit_7(store: Any, tmp_path: Path, fake_pipeline: None) -> None:
    holder = JobLock(store, "impact", ttl=600)
    holder.acquire()
    res = invoke(store, write_config(tmp_path), "--no-export")
    assert res.exit_code == 7
    assert "holds the lock" in res.stderr


def test_defect7_stale_lock_of_a_killed_run_is_taken_over(
    store: Any, tmp_path: Path, fake_pipeline: None
) -> None:
    import time

    killed = JobLock(store, "impact", ttl=3600, clock=lambda: time.time() - 7200)
    killed.acquire()  # the run was killed: never released, never renewed; its ttl ran out an hour ago
    res = invoke(store, write_config(tmp_path), "--no-export")
    assert res.exit_code == 0, res.output


def test_config_error_exit_2_names_dotted_key(store: Any, tmp_path: Path) -> None:
    res = invoke(store, write_config(tmp_path, "job: {lookback: soon}\n"), "--no-export")
    assert res.exit_code == 2
    assert "job.lookback" in res.stderr


def test_real_pipeline_on_an_empty_store(store: Any, tmp_path: Path) -> None:
    # the real pipeline.analyze with every registered stage, through the job
    out = tmp_path / "r.json"
    res = invoke(
        store, write_config(tmp_path), "--no-export", "--json", str(out), "--report", str(tmp_path / "r.md")
    )
    assert res.exit_code == 0, res.output
    doc = out.read_text()
    assert '"run"' in doc and '"correlations"' in doc
    assert (tmp_path / "r.md").read_text().startswith("# otel-impact report")
