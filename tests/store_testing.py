"""Helpers the tests share (importable from any test module: ``tests/`` is on the path).

``conftest`` is not importable by name from a test — pytest loads several files of that name.
"""

from __future__ import annotations

import contextlib
import math
import os
import uuid
from collections.abc import Iterator
from typing import Any

from otel_impact import semconv


def store_dsn() -> str:
    """The session's store: a ClickHouse server when configured, else the in-memory chDB engine."""
    return os.environ.get(semconv.ENV_TEST_CLICKHOUSE_DSN) or "chdb://memory"


@contextlib.contextmanager
def fresh_database(engine_client: Any, *, schema: bool = False) -> Iterator[Any]:
    """A client whose current database is new and empty (with the full schema when ``schema``),
    dropped on exit. Fixtures of any scope build on it."""
    import clickhouse_connect

    name = "t_" + uuid.uuid4().hex[:12]
    engine_client.command(f"CREATE DATABASE {name}")
    client = clickhouse_connect.get_client(dsn=store_dsn(), database=name)
    try:
        if schema:
            from otel_impact.store import apply_schema

            apply_schema(client, database=name)
        yield client
    finally:
        engine_client.command(f"DROP DATABASE IF EXISTS {name} SYNC")


def document_differences(
    a: Any, b: Any, *, rel: float = 1e-6, abs_tol: float = 0.0, key_order: bool = False, path: str = ""
) -> list[str]:
    """Where two JSON-like result documents differ, as paths (``[]``: the same). Floats are
    compared to ``rel`` / ``abs_tol`` — the engine's parallel sums add in a different order from
    one query to the next, so the last digits differ — and NaN equals NaN; ``key_order`` also
    requires every mapping's keys in the same order."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}/{k}: only in one" for k in sorted(set(a) ^ set(b))]
        if key_order and not out and list(a) != list(b):
            out.append(f"{path}: keys in another order")
        for k in sorted(set(a) & set(b)):
            out += document_differences(
                a[k], b[k], rel=rel, abs_tol=abs_tol, key_order=key_order, path=f"{path}/{k}"
            )
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items, the other {len(b)}"]
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in document_differences(
                x, y, rel=rel, abs_tol=abs_tol, key_order=key_order, path=f"{path}[{i}]"
            )
        ]
    if isinstance(a, float) and isinstance(b, float | int) and not isinstance(b, bool):
        same = a == b or (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=rel, abs_tol=abs_tol)
        return [] if same else [f"{path}: {a!r}, the other {b!r}"]
    return [] if a == b else [f"{path}: {a!r}, the other {b!r}"]
