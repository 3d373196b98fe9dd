"""Shared fixtures.

chDB runs one embedded engine per process, so the whole test session shares one in-memory engine
and every test that needs a store gets its own database in it (``db_client``), optionally with the
full schema applied (``store``). Set ``OTEL_IMPACT_TEST_CLICKHOUSE_DSN`` to run the same tests
against a ClickHouse server instead.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from otel_impact import semconv

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def _dsn() -> str:
    return os.environ.get(semconv.ENV_TEST_CLICKHOUSE_DSN) or "chdb://memory"


@pytest.fixture(scope="session")
def engine_client() -> Any:
    """A client on the session-wide engine (default database)."""
    import clickhouse_connect

    return clickhouse_connect.get_client(dsn=_dsn())


@contextlib.contextmanager
def fresh_database(engine_client: Any, *, schema: bool = False) -> Iterator[Any]:
    """A client whose current database is new and empty (with the full schema when ``schema``),
    dropped on exit. Fixtures of any scope build on it."""
    import clickhouse_connect

    name = "t_" + uuid.uuid4().hex[:12]
    engine_client.command(f"CREATE DATABASE {name}")
    client = clickhouse_connect.get_client(dsn=_dsn(), database=name)
    try:
        if schema:
            from otel_impact.store import apply_schema

            apply_schema(client, database=name)
        yield client
    finally:
        engine_client.command(f"DROP DATABASE IF EXISTS {name} SYNC")


@pytest.fixture()
def db_client(engine_client: Any) -> Iterator[Any]:
    """A client whose current database is a fresh, empty database for this test."""
    with fresh_database(engine_client) as client:
        yield client


@pytest.fixture()
def store(db_client: Any) -> Any:
    """``db_client`` with the full otel-impact schema applied."""
    from otel_impact.store import apply_schema

    apply_schema(db_client, database=db_client.database)
    return db_client


def shared_file(relative: str) -> Path:
    """A file from ../shared when present, else its copy under tests/data."""
    candidate = SHARED / relative
    if candidate.exists():
        return candidate
    return REPO / "tests" / "data" / Path(relative).name
