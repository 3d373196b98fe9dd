"""``otel-impact schema apply``: create the exporter tables and our impact_* objects;
``otel-impact schema backfill``: rebuild the typed tables from the exporter tables."""

from __future__ import annotations

from datetime import datetime

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


@command.command("backfill")
@click.option("--dsn", default=None, help="chdb:///abs/path, chdb://memory or http(s)://user@host:8123/db.")
@click.option(
    "--database", default=None, help="Database holding the schema. Default: the DSN's, else default."
)
@click.option(
    "--table",
    "tables",
    type=click.Choice(["predictions", "events"]),
    multiple=True,
    help="Typed table to rebuild (repeatable). Default: both.",
)
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First day (UTC), YYYY-MM-DD.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last day (UTC), YYYY-MM-DD.")
@handle_errors
def backfill(
    dsn: str | None,
    database: str | None,
    tables: tuple[str, ...],
    since: datetime | None,
    until: datetime | None,
) -> None:
    """Rebuild the typed tables (impact_predictions_typed, impact_events_typed) from otel_traces /
    otel_logs, day by day: rows written before `schema apply` created them, or LLM versions after
    a change of llm.version_attributes. Days being written meanwhile may miss those new rows:
    run it for past days, or again."""
    from otel_impact.store import connect
    from otel_impact.store.backfill import backfill as run_backfill

    if since is not None and until is not None and since > until:
        raise ConfigError("--since is after --until", path="--since")
    client = connect(dsn, database)
    results = run_backfill(
        client,
        tables=tables or ("predictions", "events"),
        since=since.date() if since else None,
        until=until.date() if until else None,
    )
    for result in results:
        click.echo(result.summary())
