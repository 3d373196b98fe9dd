"""The ``otel-impact`` command group.

Subcommands live in sibling modules and are imported only when invoked, so ``otel-impact --help``
stays fast and a command's heavy dependencies never load for another command. Each module exposes
a click command named ``command``.

Exit codes (documented in docs/operations.md): 0 ok, 1 unexpected error, 2 config error, 3 store error,
4 receiver error, 5 analysis error, 6 export error, 7 another run holds the lock,
8 alerts fired with ``--fail-on-alert``.
"""

from __future__ import annotations

import functools
import importlib
import logging
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from otel_impact.errors import OtelImpactError

# command name -> (module under otel_impact.cli, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "schema": ("schema", "Create or upgrade the ClickHouse tables (idempotent)."),
    "collect": ("collect", "Run the embedded OTLP receiver writing the exporter table layout."),
    "config": ("config", "Check an impact.yaml file."),
    "analyze": ("analyze", "Run the impact analysis job (stitch, attribute, correlate, export)."),
    "demo": ("demo", "Simulate instrumented services end to end and show planted vs recovered effects."),
    "tree": ("tree", "Show the metric tree with each node's status and correlations."),
    "digest": ("digest", "Write a daily/weekly/monthly review digest in Markdown."),
    "plan": ("plan", "Validate the tracking plan and live telemetry against it."),
}

F = TypeVar("F", bound=Callable[..., Any])
# top-level modules of the `analyzer` extra (pyproject.toml)
_ANALYZER_MODULES = frozenset({"chdb", "clickhouse_connect", "numpy", "scipy", "grpc"})


def handle_errors(fn: F) -> F:
    """Turn expected failures into one ``error:`` line and the documented exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except OtelImpactError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except ModuleNotFoundError as exc:
            if (exc.name or "").split(".")[0] not in _ANALYZER_MODULES:
                raise
            click.echo(
                f"error: this command needs the analyzer extra ({exc.name} is not installed): "
                "pip install 'otel-impact[analyzer]'",
                err=True,
            )
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, help_text = entry
        module = importlib.import_module(f"otel_impact.cli.{module_name}")
        cmd = module.command
        assert isinstance(cmd, click.Command)
        if not cmd.short_help:
            cmd.short_help = help_text
        return cmd


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (repeat for debug).")
@click.version_option(package_name="otel-impact")
def cli(verbose: int) -> None:
    """otel-impact: did the model move the business?"""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=argv, prog_name="otel-impact")
