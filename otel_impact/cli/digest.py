"""``otel-impact digest --period daily|weekly|monthly --config impact.yaml [--out digest.md]``.

Prints (or writes) the Markdown review digest for the cadence, read from the stored results —
suitable for posting from cron (see :mod:`otel_impact.report.digest`).
"""

from __future__ import annotations

from pathlib import Path

import click

from otel_impact.cli.main import handle_errors
from otel_impact.cli.options import store_options
from otel_impact.errors import ConfigError


@click.command("digest")
@click.option(
    "--period", type=click.Choice(["daily", "weekly", "monthly"]), default="weekly", show_default=True
)
@store_options
@click.option("--now", "now_text", default=None, help="Period end, ISO-8601 (default: now).")
@click.option(
    "--out", default=None, type=click.Path(dir_okay=False), help="Write the Markdown here instead of stdout."
)
@handle_errors
def command(
    period: str,
    config_path: str,
    dsn: str | None,
    database: str | None,
    now_text: str | None,
    out: str | None,
) -> None:
    """Write the operational / product+model / business digest for a cadence, in Markdown."""
    from otel_impact.config import load_config
    from otel_impact.context import parse_iso
    from otel_impact.report.digest import build_digest
    from otel_impact.store import connect

    cfg = load_config(config_path)
    try:
        now = parse_iso(now_text) if now_text else None
    except ValueError as exc:
        raise ConfigError(str(exc), path="--now") from exc
    client = connect(dsn, database=database or cfg.database)
    text = build_digest(client, cfg, period, now)
    if out:
        Path(out).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
