"""Review digests read the exported, deduplicated results and the job's run log."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from otlp_sink import receiver
from results import WINDOW, full_result

from otel_impact.cli.main import cli
from otel_impact.config import config_from_dict
from otel_impact.errors import ConfigError, ExportError
from otel_impact.export.digest import build_digest
from otel_impact.job import run_job
from otel_impact.pipeline import parse_iso

T1 = parse_iso(WINDOW["end"])


def analyze(client: Any, config: Any, window: Any, **kw: Any) -> dict[str, Any]:
    return full_result(window.to_json())


@pytest.fixture()
def exported(store: Any) -> Any:
    with receiver(store) as rx:
        config = config_from_dict({"export": {"endpoint": rx.endpoints.http, "timeout": "30s", "retries": 0}})
        run_job(store, config, since=T1 - timedelta(days=4), until=T1, analyze_fn=analyze)
        run_job(store, config, since=T1 - timedelta(days=4), until=T1, analyze_fn=analyze)  # re-run: no dupes
        rx.flush()
    down = config_from_dict({"export": {"endpoint": "http://127.0.0.1:9", "timeout": "200ms", "retries": 0}})
    with pytest.raises(ExportError):
        run_job(store, down, since=T1 - timedelta(days=1), until=T1, analyze_fn=analyze)
    return store


def test_weekly_digest_sections_and_values_and_monthly_cli(exported: Any, tmp_path: Path) -> None:
    text = build_digest(exported, config_from_dict({}), "weekly", T1 + timedelta(hours=1))
    assert text.startswith("# otel-impact weekly digest")
    heads = [line for line in text.splitlines() if line.startswith("## ")]
    assert heads == ["## Product and model", "## Business", "## Operational"]
    assert "| ctr | model | 0.1371 | – | – | 7 |" in text  # mean of the 7 ctr buckets, each counted once
    assert "| ctr → purchase | all users | 43200 | 0.82 | [0.41, 0.95] | 0.012 |" in text
    assert "| purchase | last_touch | recommender v2 | all users | 27,210.5 | 580 |" in text
    assert (
        "| purchase | ml.model.version=2 vs ml.model.version=1 | all users | 0.062 | [0.021, 0.104] | 0.003 |"
        in text
    )
    assert "| recommender v2 | 314% | 4,710.5 |" in text
    assert "analyzer runs: 2 ok, 1 failed" in text and "last failure: export_failed" in text
    assert "alerts: 1; incidents: 1" in text
    assert "feature `recs`: iterate_ux" in text
    check_monthly_cli(exported, tmp_path)  # same stored results, through the CLI


def test_daily_digest_order_and_empty_store(store: Any) -> None:
    text = build_digest(store, config_from_dict({}), "daily", T1)
    heads = [line for line in text.splitlines() if line.startswith("## ")]
    assert heads == ["## Operational", "## Product and model", "## Business"]
    assert "no successful run in this period" in text and text.count("_no data_") == 2
    with pytest.raises(ConfigError, match="--period"):
        build_digest(store, config_from_dict({}), "hourly", T1)


def check_monthly_cli(exported: Any, tmp_path: Path) -> None:
    cfg = tmp_path / "impact.yaml"
    cfg.write_text("{}", encoding="utf-8")
    out = tmp_path / "d.md"
    args = ["digest", "--period", "monthly", "--config", str(cfg), "--dsn", "chdb://memory",
            "--database", exported.database, "--now", "2026-11-05T01:00:00Z", "--out", str(out)]  # fmt: skip
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert out.read_text().splitlines()[0] == "# otel-impact monthly digest"
    assert next(x for x in out.read_text().splitlines() if x.startswith("## ")) == "## Business"
