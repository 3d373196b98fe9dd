"""``otel-impact plan check``: exit codes, printed violations with examples, JSON output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from contract_data import insert_events
from test_plan_check import PLAN, clean_day

from otel_impact.cli.main import cli


def write_config(tmp_path: Path, plan: dict[str, Any]) -> Path:
    (tmp_path / "plan.yaml").write_text(yaml.safe_dump(plan), encoding="utf-8")
    path = tmp_path / "impact.yaml"
    path.write_text("tracking_plan:\n  file: plan.yaml\n", encoding="utf-8")
    return path


def check(store: Any, config: Path, *extra: str) -> Any:
    args = ["plan", "check", "--config", str(config), "--dsn", "chdb://memory", "--database", store.database]
    return CliRunner().invoke(cli, [*args, *extra])


def test_clean_window_exits_zero_and_violations_exit_eight(store: Any, tmp_path: Path) -> None:
    events, _ = clean_day(0)
    insert_events(store, events)
    plan = {k: v for k, v in PLAN.items() if k != "predictions"}
    config = write_config(tmp_path, plan)
    window = ["--since", "2026-11-01T00:00:00Z", "--until", "2026-11-02T00:00:00Z"]
    ok = check(store, config, *window)
    assert ok.exit_code == 0, ok.output
    assert "tracking plan: OK" in ok.output
    insert_events(store, [(3600.0, "business.purchase", {"business.value": "lots", "user.id": "u1"})])
    out = tmp_path / "out.json"
    bad = check(store, config, *window, "--json", str(out))
    assert bad.exit_code == 8, bad.output
    assert "FAIL  wrong_type: 1 (tolerance 0)" in bad.output
    assert "e.g. ts=2026-11-01T01:00:00Z" in bad.output and "value=lots" in bad.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["ok"] is False
    assert doc["summary"]["missing_required"]["count"] == 1  # business.currency


def test_invalid_plan_exits_two_and_plan_only_needs_no_store(tmp_path: Path) -> None:
    plan = {"events": {"business.purchase": {"attributes": {"v": "int"}, "example": {"v": "x"}}}}
    config = write_config(tmp_path, plan)
    res = CliRunner().invoke(cli, ["plan", "check", "--config", str(config), "--plan-only"])
    assert res.exit_code == 2
    assert "tracking_plan.events.business.purchase.example.v: wrong_type" in res.output
    good = write_config(tmp_path, {"events": {"e": {"attributes": {"v": "int"}, "example": {"v": 3}}}})
    res = CliRunner().invoke(cli, ["plan", "check", "--config", str(good), "--plan-only"])
    assert res.exit_code == 0 and "tracking plan: OK" in res.output


def test_missing_plan_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "impact.yaml"
    path.write_text("{}\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["plan", "check", "--config", str(path), "--plan-only"])
    assert res.exit_code == 2 and "tracking_plan" in res.output
