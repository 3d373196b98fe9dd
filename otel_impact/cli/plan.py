"""``otel-impact plan check --config impact.yaml [--days 1 | --since … --until …]``.

Validates the tracking plan itself (every example payload conforms to its entry), then the
stored telemetry of the window against it (see :mod:`otel_impact.plan.check`), prints the
violations with counts and an example row each, and exits 0 when everything is within the
configured tolerances, 8 when a check exceeds its tolerance and 2 when the plan itself is
invalid. ``--plan-only`` skips the store (for CI on the plan file).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from otel_impact.cli.main import handle_errors
from otel_impact.cli.options import parse_window, store_options, window_options
from otel_impact.errors import ConfigError

EXIT_PLAN_INVALID = 2
EXIT_VIOLATIONS = 8


@click.group("plan")
def command() -> None:
    """Tracking plan: validate the plan and live telemetry against it."""


def _lines(doc: dict[str, Any]) -> list[str]:
    lines = [f"window {doc['window']['start']} .. {doc['window']['end']}"]
    for p in doc["plan_problems"]:
        lines.append(f"PLAN  {p['path']}: {p['message']}")
    for kind, s in doc["summary"].items():
        if s["count"]:
            flag = "FAIL" if s["exceeded"] else "ok  "
            lines.append(f"{flag}  {kind}: {s['count']} (tolerance {s['tolerance']})")
    for v in doc["violations"]:
        where = v["entry"] + (f" {v['attribute']}" if v["attribute"] else "")
        example = v["examples"][0] if v["examples"] else None
        lines.append(f"  {v['kind']:<18} {where}: {v['count']} of {v['rows']} — {v['message']}")
        if example:
            lines.append("      e.g. " + ", ".join(f"{k}={val}" for k, val in example.items()))
    for e in doc["entries"]:
        lines.append(
            f"  entry {e['name']} [{e['status']}] rows={e['rows']} live={'yes' if e['live'] else 'no'}"
        )
    lines.append("tracking plan: OK" if doc["ok"] else "tracking plan: FAILED")
    return lines


@command.command("check")
@store_options
@window_options
@click.option(
    "--days", default=1.0, show_default=True, type=float, help="Window length when --since is not given."
)
@click.option("--plan-only", is_flag=True, help="Validate the plan itself only; do not open the store.")
@click.option(
    "--json", "json_path", default=None, type=click.Path(dir_okay=False), help="Write the result as JSON."
)
@handle_errors
def check(
    config_path: str,
    dsn: str | None,
    database: str | None,
    since: str | None,
    until: str | None,
    days: float,
    plan_only: bool,
    json_path: str | None,
) -> None:
    """Validate the tracking plan, then stored telemetry of a window against it."""
    from otel_impact.config import load_config
    from otel_impact.pipeline import to_jsonable
    from otel_impact.plan.validate import load_plan, validate_plan

    cfg = load_config(config_path)
    plan = load_plan(cfg.tracking_plan, Path(config_path).resolve().parent)
    if plan.empty:
        raise ConfigError(
            "no tracking plan configured (add tracking_plan.events / predictions)", path="tracking_plan"
        )
    if plan_only:
        problems = validate_plan(plan)
        for p in problems:
            click.echo(f"PLAN  {p.path}: {p.message}")
        click.echo("tracking plan: " + ("FAILED" if problems else "OK"))
        if problems:
            raise SystemExit(EXIT_PLAN_INVALID)
        return
    window = parse_window(since, until, days)
    from otel_impact.plan.check import check_store
    from otel_impact.store import connect

    client = connect(dsn, database=database or cfg.database)
    report = check_store(client, plan, window.start, window.end)
    doc = to_jsonable(report.to_json())
    if json_path:
        Path(json_path).write_text(json.dumps(doc, indent=2), encoding="utf-8")
    for line in _lines(doc):
        click.echo(line)
    if report.problems:
        raise SystemExit(EXIT_PLAN_INVALID)
    if not report.ok:
        raise SystemExit(EXIT_VIOLATIONS)
