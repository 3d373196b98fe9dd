"""A schema'd database shared by the tests of one module and emptied after each test.

Applying the full schema costs more than most stitching tests themselves, so a module applies it
once: importing ``module_store`` and ``emptied_store`` (a fixture named ``store``, overriding the
conftest one in the importing module) makes ``store`` that database, and after each
test every table the test filled is truncated and every table it created is dropped, so each test
still starts from an empty store.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from store_testing import fresh_database

_VIEWS = ("View", "MaterializedView")
# database -> (tables of the schema, tables the schema itself fills, e.g. its version row)
_SCHEMA: dict[str, tuple[set[str], set[str]]] = {}


def _tables(client: Any) -> dict[str, str]:
    res = client.query(
        "SELECT name, engine FROM system.tables WHERE database = {db:String}",
        parameters={"db": client.database},
    )
    return {str(r[0]): str(r[1]) for r in res.result_rows}


@pytest.fixture(scope="module")
def module_store(engine_client: Any) -> Iterator[Any]:
    """One database with the otel-impact schema for the whole module."""
    with fresh_database(engine_client, schema=True) as client:
        name = client.database
        seeded = client.query(
            "SELECT name FROM system.tables WHERE database = {db:String} AND total_rows > 0",
            parameters={"db": name},
        )
        _SCHEMA[name] = (set(_tables(client)), {str(r[0]) for r in seeded.result_rows})
        try:
            yield client
        finally:
            _SCHEMA.pop(name, None)


@pytest.fixture(name="store")
def emptied_store(module_store: Any) -> Iterator[Any]:
    """The module's schema'd database, empty at the start of the test."""
    yield module_store
    schema, seeded = _SCHEMA[module_store.database]
    for table, engine in _tables(module_store).items():
        if table not in schema:
            module_store.command("DROP TABLE IF EXISTS {t:Identifier} SYNC", parameters={"t": table})
        elif engine not in _VIEWS and table not in seeded:
            module_store.command("TRUNCATE TABLE {t:Identifier}", parameters={"t": table})
