"""``otel-impact tree --config impact.yaml [--dsn ...] [--database ...] [--json]``.

Shows the configured metric tree with each node's status (Live / Needs data), latest value and
the measured correlation with its parent (see :mod:`otel_impact.tree`).
"""

from __future__ import annotations

import json

import click

from otel_impact.cli.main import handle_errors
from otel_impact.cli.options import store_options
from otel_impact.errors import ConfigError


@click.command("tree")
@store_options
@click.option("--now", "now_text", default=None, help="Evaluate as of this ISO-8601 time (default: now).")
@click.option("--json", "as_json", is_flag=True, help="Print the measured tree as JSON.")
@handle_errors
def command(
    config_path: str, dsn: str | None, database: str | None, now_text: str | None, as_json: bool
) -> None:
    """Show the metric tree: status, latest value and parent↔child correlation per node."""
    from otel_impact.config import load_config
    from otel_impact.context import parse_iso
    from otel_impact.store import connect
    from otel_impact.tree import measure_tree, render_tree

    cfg = load_config(config_path)
    if cfg.tree.root is None:
        raise ConfigError("no metric tree configured (add tree.root)", path="tree.root")
    try:
        now = parse_iso(now_text) if now_text else None
    except ValueError as exc:
        raise ConfigError(str(exc), path="--now") from exc
    client = connect(dsn, database=database or cfg.database)
    plan_mark = None
    if not (cfg.tracking_plan.empty and cfg.tracking_plan.file is None):
        from datetime import UTC, datetime, timedelta
        from pathlib import Path

        from otel_impact.plan.check import check_store
        from otel_impact.plan.tree import tree_marks
        from otel_impact.plan.validate import load_plan

        plan = load_plan(cfg.tracking_plan, Path(config_path).resolve().parent)
        until = now or datetime.now(UTC)
        report = check_store(client, plan, until - timedelta(seconds=cfg.tree.live_within), until)
        plan_mark = tree_marks(plan, report)
    root = measure_tree(client, cfg.tree, now, plan_mark)
    assert root is not None
    if as_json:
        click.echo(json.dumps(root.to_json(), indent=2))
        return
    for line in render_tree(root):
        click.echo(line)
