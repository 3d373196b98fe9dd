"""``otel-impact config check impact.yaml``."""

from __future__ import annotations

import click

from otel_impact.cli.main import handle_errors
from otel_impact.config import load_config


@click.group("config")
def command() -> None:
    """Work with impact.yaml files."""


@command.command("check")
@click.argument("path", type=click.Path(dir_okay=False))
@handle_errors
def check(path: str) -> None:
    """Validate PATH; print a summary, or the first bad key and exit 2."""
    cfg = load_config(path)
    click.echo(
        f"ok: {path}: {len(cfg.business_metrics)} business metric(s), "
        f"segments [{', '.join(cfg.segments)}], attribution [{', '.join(cfg.attribution.models)}]"
    )
