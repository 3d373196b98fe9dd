"""``otel-impact schema apply``: create the exporter tables and our impact_* objects."""

from __future__ import annotations

import click

from otel_impact.cli.main import handle_errors
from otel_impact.config import parse_duration
from otel_impact.errors import ConfigError


@click.group("schema")
def command() -> None:
    """Create or upgrade the ClickHouse tables (idempotent)."""


@command.command("apply")
@click.option("--dsn", default=None, help="chdb:///abs/path, chdb://memory or http(s)://user@host:8123/db.")
@click.option(
    "--database", default=None, help="Target database (created if missing). Default: the DSN's, else default."
)
@click.option(
    "--ttl", default=None, help="Expire telemetry after this long (e.g. 30d, 72h); default keeps it."
)
@click.option("--cluster", default=None, help="Emit ON CLUSTER <NAME> and Replicated engines.")
@click.option(
    "--index-kind",
    type=click.Choice(["text", "bloom"]),
    default=None,
    help="Skip indexes of new exporter tables. Default: text on a server >= 26.2, bloom on chDB.",
)
@click.option("--dry-run", is_flag=True, help="Print the rendered DDL instead of running it.")
@handle_errors
def apply(
    dsn: str | None,
    database: str | None,
    ttl: str | None,
    cluster: str | None,
    index_kind: str | None,
    dry_run: bool,
) -> None:
    """Create every table and view that is missing; report what was created or already present."""
    ttl_seconds = None
    if ttl is not None:
        try:
            ttl_seconds = parse_duration(ttl)
        except ValueError as exc:
            raise ConfigError(str(exc), path="--ttl") from exc
    if dry_run:
        from otel_impact.store.schema import SchemaOptions, render_schema

        options = SchemaOptions(
            database=database or "default", cluster=cluster, ttl=ttl_seconds, fulltext=index_kind != "bloom"
        )
        for _, statement in render_schema(options):
            click.echo(statement + ";\n")
        return
    from otel_impact.store import apply_schema, connect

    client = connect(dsn, database, create_database=True)
    text_indexes = None if index_kind is None else index_kind == "text"
    result = apply_schema(
        client, database=client.database, cluster=cluster, ttl=ttl_seconds, text_indexes=text_indexes
    )
    click.echo(result.summary())
