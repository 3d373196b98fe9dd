"""``otel-impact config check impact.yaml``."""

from __future__ import annotations

import sys

import click

from otel_impact.cli.main import handle_errors
from otel_impact.config import load_config
from otel_impact.config.check import lint
from otel_impact.errors import ConfigError


@click.group("config")
def command() -> None:
    """Work with impact.yaml files."""


@command.command("check")
@click.argument("path", type=click.Path(dir_okay=False))
@handle_errors
def check(path: str) -> None:
    """Validate PATH; print a summary, or every problem (dotted key first) and exit 2.

    Beyond validation it reports what a run would only warn about later: no business metrics,
    references to unknown business metrics or series (with a "did you mean").
    """
    cfg = load_config(path)
    problems = lint(cfg)
    if problems:
        for key, message in problems:
            click.echo(f"error: {ConfigError(message, path=key)}", err=True)
        click.echo(f"{path}: {len(problems)} problem(s)", err=True)
        sys.exit(ConfigError.exit_code)
    click.echo(
        f"ok: {path}: {len(cfg.business_metrics)} business metric(s), "
        f"segments [{', '.join(cfg.segments)}], attribution [{', '.join(cfg.attribution.models)}]"
    )
