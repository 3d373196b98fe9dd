"""Options and their parsing shared by the commands that read the store.

``store_options`` adds ``--config``, ``--dsn`` and ``--database``; ``window_options`` adds
``--since`` and ``--until``, which :func:`parse_window` turns into an analysis window (a bad
time is a :class:`~otel_impact.errors.ConfigError` naming ``--since/--until``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import click

from otel_impact.errors import ConfigError

if TYPE_CHECKING:
    from otel_impact.context import Window

F = TypeVar("F", bound=Callable[..., Any])


def store_options(fn: F) -> F:
    """``--config`` (required), ``--dsn`` and ``--database``, in that order in ``--help``."""
    fn = click.option(
        "--database", default=None, help="Database holding the tables (default: from the config)."
    )(fn)
    fn = click.option(
        "--dsn", default=None, help="ClickHouse DSN (default: embedded chDB or $OTEL_IMPACT_CLICKHOUSE_DSN)."
    )(fn)
    return click.option(
        "--config", "config_path", required=True, type=click.Path(dir_okay=False), help="impact.yaml"
    )(fn)


def window_options(fn: F) -> F:
    """``--since`` and ``--until`` (ISO-8601), in that order in ``--help``."""
    fn = click.option("--until", default=None, help="Window end, ISO-8601 (default: now).")(fn)
    return click.option("--since", default=None, help="Window start, ISO-8601 (UTC if no offset).")(fn)


def parse_window(since: str | None, until: str | None, days: float) -> Window:
    """The window ``since .. until``; without ``until`` it ends now, without ``since`` it starts
    ``days`` before its end."""
    from otel_impact.context import Window, parse_iso

    try:
        end = parse_iso(until) if until else datetime.now(UTC)
        start = parse_iso(since) if since else end - timedelta(days=days)
        return Window(start, end)
    except ValueError as exc:
        raise ConfigError(str(exc), path="--since/--until") from exc
