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
    assert heads == [
        "## Did the model move the business?",
        "## Product and model",
        "## Business",
        "## Operational",
    ]
    # the same headline as the report, from the stored results, naming the window it covers
    assert "_Estimates from the latest analysis: 2026-11-01 .. 2026-11-05 UTC._" in text
    assert "- recommender v2 vs v1 raised purchase: +6.2% per exposed user (CI +2.1% to +10.4%" in text
    assert "- CRITICAL 2026-11-03 12:00: correlation_break:" in text
    assert "| ctr | model | 0.137 | – | – | 7 |" in text  # mean of the 7 ctr buckets, each counted once
    assert "| ctr → purchase | Pearson | 12 h | 0.82 | [0.41, 0.95] | 0.012 |" in text
    assert "| purchase | last touch | 21,000 | 27,210 |" in text
    assert "| purchase | v2 vs v1 | all users | +6.2% | [+2.1%, +10.4%] | 0.003 |" in text
    assert "| recommender v2 | +314.0% | 4,710 |" in text
    assert "analyzer runs: 2 ok, 1 failed" in text and "last failure: export_failed" in text
    assert "alerts: 1 (1 critical, 0 resolved); incidents: 1" in text
    ops = text[text.index("## Operational") :]
    assert ops.index("| CRIT | 2026-11-03 12:00 |") < ops.index("| INCIDENT |")  # critical first, as CRIT
    assert "feature `recs`: iterate_ux" in text
    check_monthly_cli(exported, tmp_path)  # same stored results, through the CLI


def test_daily_digest_order_and_empty_store(store: Any) -> None:
    text = build_digest(store, config_from_dict({}), "daily", T1)
    heads = [line for line in text.splitlines() if line.startswith("## ")]
    assert heads == [
        "## Did the model move the business?",
        "## Operational",
        "## Product and model",
        "## Business",
    ]
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
    heads = [x for x in out.read_text().splitlines() if x.startswith("## ")]
    assert heads[:2] == ["## Did the model move the business?", "## Business"]
