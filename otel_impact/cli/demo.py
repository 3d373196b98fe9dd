"""``otel-impact demo [--days 30] [--users 20000] [--seed 7] [--dsn ...] [--database ...] [--out demo-out/]``.

Simulated, instrumented services → OTLP → embedded receiver → chDB → analyzer → report, with
planted effects shown beside what the analyzer recovered. The logic lives in
:mod:`otel_impact.demo`; this module parses options, prints progress to stderr and the summary to
stdout. The default store is the embedded chDB at ``./.otel-impact/db``; the demo works in its
own database (``otel_impact_demo``, recreated on every run).
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from otel_impact.cli.main import handle_errors


@click.command("demo")
@click.option("--days", default=30, show_default=True, type=click.IntRange(7, 365), help="Simulated days.")
@click.option(
    "--users", default=20_000, show_default=True, type=click.IntRange(10, 2_000_000), help="Simulated users."
)
@click.option("--seed", default=7, show_default=True, help="Seed of the simulation.")
@click.option("--dsn", default=None, help="ClickHouse DSN (default: embedded chDB at ./.otel-impact/db).")
@click.option(
    "--database",
    default="otel_impact_demo",
    show_default=True,
    help="Database for the demo's tables (recreated when its name starts with otel_impact_demo; else must be empty).",
)
@click.option(
    "--out", default="demo-out", show_default=True, type=click.Path(file_okay=False), help="Output directory."
)
@handle_errors
def command(days: int, users: int, seed: int, dsn: str | None, database: str, out: str) -> None:
    """Simulate instrumented services end to end and show planted vs recovered effects."""
    from otel_impact.demo.report import summary_lines
    from otel_impact.demo.run import DemoOptions, run_demo

    t0 = time.perf_counter()

    def progress(line: str) -> None:
        click.echo(f"[demo {time.perf_counter() - t0:6.1f}s] {line}", err=True)

    outcome = run_demo(
        DemoOptions(days=days, users=users, seed=seed, dsn=dsn, database=database, out=Path(out)),
        progress=progress,
    )
    for line in summary_lines(outcome):
        click.echo(line)
