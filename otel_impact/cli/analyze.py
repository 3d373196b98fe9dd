"""``otel-impact analyze --config impact.yaml [--dsn ...] [--database ...] [--since ISO --until ISO] [--json out.json]``.

Runs the analysis stages (:func:`otel_impact.pipeline.analyze`) over one window and prints a
short summary; ``--json`` writes the whole result document. Without ``--until`` the window ends
now; without ``--since`` it starts ``--days`` (default 30) before its end.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from otel_impact.cli.main import handle_errors
from otel_impact.errors import ConfigError


def _window(since: str | None, until: str | None, days: float) -> Any:
    from otel_impact.pipeline import Window, parse_iso

    try:
        end = parse_iso(until) if until else datetime.now(UTC)
        start = parse_iso(since) if since else end - timedelta(days=days)
        return Window(start, end)
    except ValueError as exc:
        raise ConfigError(str(exc), path="--since/--until") from exc


def _summary(result: dict[str, Any]) -> list[str]:
    lines = [f"window {result['window']['start']} .. {result['window']['end']}"]
    for row in result.get("stitching") or []:
        lines.append(
            f"  {row['business_metric']:<20} outcomes {row['outcomes']:>9}  attributed "
            f"{row['attributed_outcomes']:>9}  unattributed {row['unattributed_outcomes']:>9}  "
            f"value {row['value_total'] if row['value_total'] is not None else 'n/a'}"
        )
    for warning in result.get("warnings") or []:
        lines.append(f"warning: {warning}")
    return lines


@click.command("analyze")
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False), help="impact.yaml")
@click.option(
    "--dsn", default=None, help="ClickHouse DSN (default: embedded chDB or $OTEL_IMPACT_CLICKHOUSE_DSN)."
)
@click.option("--database", default=None, help="Database holding the tables (default: from the config).")
@click.option("--since", default=None, help="Window start, ISO-8601 (UTC if no offset).")
@click.option("--until", default=None, help="Window end, ISO-8601 (default: now).")
@click.option("--days", default=30.0, show_default=True, help="Window length when --since is not given.")
@click.option("--seed", default=0, show_default=True, help="Seed for any randomised step.")
@click.option(
    "--json",
    "json_path",
    default=None,
    type=click.Path(dir_okay=False),
    help="Write the result JSON here ('-' = stdout).",
)
@handle_errors
def command(
    config_path: str,
    dsn: str | None,
    database: str | None,
    since: str | None,
    until: str | None,
    days: float,
    seed: int,
    json_path: str | None,
) -> None:
    """Stitch outcomes to predictions, attribute them, and run the analysis stages over a window."""
    from otel_impact.config import load_config
    from otel_impact.pipeline import analyze
    from otel_impact.store import connect

    cfg = load_config(config_path)
    window = _window(since, until, days)
    client = connect(dsn, database=database or cfg.database)
    result = analyze(
        client, cfg, window, seed=seed, progress=lambda name: click.echo(f"stage {name}", err=True)
    )
    text = json.dumps(result, indent=2, sort_keys=False)
    if json_path == "-":
        sys.stdout.write(text + "\n")
        return
    if json_path:
        Path(json_path).write_text(text + "\n", encoding="utf-8")
    for line in _summary(result):
        click.echo(line)
