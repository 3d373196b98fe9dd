"""Review digests read the exported, deduplicated results and the job's run log."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from otlp_sink import receiver
from results import RECORDED_WINDOW as WINDOW
from results import recorded, recorded_result

from otel_impact.cli.main import cli
from otel_impact.config import config_from_dict
from otel_impact.errors import ConfigError, ExportError
from otel_impact.job import run_job
from otel_impact.pipeline import parse_iso
from otel_impact.records import Result
from otel_impact.report.digest import build_digest

T0, T1 = parse_iso(WINDOW["start"]), parse_iso(WINDOW["end"])


def analyze(client: Any, config: Any, window: Any, **kw: Any) -> Result:
    """The recorded demo result, as the analyzer produced it for this window."""
    assert window.to_json() == WINDOW
    return recorded_result()


@pytest.fixture()
def exported(store: Any) -> Any:
    with receiver(store) as rx:
        config = config_from_dict({"export": {"endpoint": rx.endpoints.http, "timeout": "30s", "retries": 0}})
        run_job(store, config, since=T0, until=T1, analyze_fn=analyze)
        run_job(store, config, since=T0, until=T1, analyze_fn=analyze)  # re-run: no dupes
        rx.flush()
    down = config_from_dict({"export": {"endpoint": "http://127.0.0.1:9", "timeout": "200ms", "retries": 0}})
    with pytest.raises(ExportError):
        run_job(store, down, since=T0, until=T1, analyze_fn=analyze)
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
    doc = recorded()
    lift = doc["lift"][0]
    assert (
        f"_Estimates from the latest analysis: {WINDOW['start'][:10]} .. {WINDOW['end'][:10]} UTC._" in text
    )
    assert (f"- ranker v2 vs v1 raised purchase: {100 * lift['estimate']:+.1f}% per exposed user "
            f"(CI {100 * lift['ci'][0]:+.1f}% to {100 * lift['ci'][1]:+.1f}%") in text  # fmt: skip
    roi = doc["roi"][0]  # stored points carry ROI and net benefit, nothing else of the ROI row
    assert f"  - ROI: {roi['roi_pct']:+,.0f}% (net benefit {roi['net_benefit']:,.0f})" in text
    assert "INCIDENT 2026-11-03: auc changed (all users); likely cause: features_daily on clicks" in text
    best = next(r for r in doc["correlations"] if r["segment"] == {} and r["method"] == "pearson"
                and r["business_metric"] == "purchase")  # fmt: skip
    ci = f"[{best['ci'][0]:.2f}, {best['ci'][1]:.2f}]"
    assert (
        f"| mean_score → purchase | Pearson | 2 days | {best['estimate']:.2f} | {ci} | {best['pvalue']:.2g} |"
        in text
    )
    cells = {r["ml.model.version"]: r["value"] for r in doc["attribution"]
             if r["business_metric"] == "purchase" and r["model"] == "last_touch" and r["segment"] == {}}  # fmt: skip
    assert f"| purchase | last touch | {cells['v1']:,.0f} | {cells['v2']:,.0f} |" in text
    ci = f"[{100 * lift['ci'][0]:+.1f}%, {100 * lift['ci'][1]:+.1f}%]"
    assert (
        f"| purchase | v2 vs v1 | all users | {100 * lift['estimate']:+.1f}% | {ci} | {lift['pvalue']:.2g} |"
        in text
    )
    assert f"| ranker v2 | {roi['roi_pct']:+,.0f}% | {roi['net_benefit']:,.0f} |" in text
    # the series table: this period's mean of each stored series, bucket by bucket, each counted once
    ctr = next(s for s in doc["series"] if s["name"] == "ctr" and s["segment"] == {})
    week = [
        v for b, v in zip(ctr["buckets"], ctr["values"], strict=True) if b >= "2026-11-13" and v is not None
    ]
    assert f"| ctr | model | {sum(week) / len(week):.3g} |" in text
    assert "analyzer runs: 2 ok, 1 failed" in text and "last failure: export_failed" in text
    week_alerts = [a for a in doc["alerts"] if a["at"] >= "2026-11-13T01:00:00Z"]
    resolved = sum(a["state"] == "resolved" for a in week_alerts)
    assert f"alerts: {len(week_alerts)} (0 critical, {resolved} resolved); incidents: 1" in text
    ops = text[text.index("## Operational") :]
    assert ops.index("| INCIDENT |") < ops.index("| RESOLVED |")  # incidents before resolved transitions
    for ev in doc["evaluation"]:
        assert f"feature `{ev['feature']}`: {ev['decision']}" in text
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
            "--database", exported.database, "--now", "2026-11-20T01:00:00Z", "--out", str(out)]  # fmt: skip
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert out.read_text().splitlines()[0] == "# otel-impact monthly digest"
    heads = [x for x in out.read_text().splitlines() if x.startswith("## ")]
    assert heads[:2] == ["## Did the model move the business?", "## Business"]
