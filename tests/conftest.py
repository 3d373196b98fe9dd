"""Shared fixtures.

chDB runs one embedded engine per process, so the whole test session shares one in-memory engine
and every test that needs a store gets its own database in it (``db_client``), optionally with the
full schema applied (``store``). Set ``OTEL_IMPACT_TEST_CLICKHOUSE_DSN`` to run the same tests
against a ClickHouse server instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from store_testing import fresh_database, store_dsn

_dsn = store_dsn  # the name other test modules import from tests.conftest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def engine_client() -> Any:
    """A client on the session-wide engine (default database)."""
    import clickhouse_connect

    return clickhouse_connect.get_client(dsn=store_dsn())


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
