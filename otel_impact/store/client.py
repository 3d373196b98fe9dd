"""The store seam: what the product needs from a ClickHouse client, and one way to run SQL.

:class:`StoreClient` is the subset of clickhouse-connect's ``Client`` the product calls
(``query``, ``command``, ``insert`` and the ``database`` attribute); any object with these
methods — a chDB-backed client, an HTTP client, a test double — can stand in.

:func:`query_file` runs one named file from ``otel_impact/store/sql/`` with server-side
parameters; :func:`query_text` runs composed text. Both translate driver and engine errors into
:class:`~otel_impact.errors.StoreError` naming what was being done and the file, so no caller
writes its own ``try/except`` around ``client.query``.

>>> from otel_impact.store import connect
>>> client = connect("chdb://memory")
>>> rows(query_text(client, "SELECT {x:UInt8} + 1", {"x": 1}, doing="doc"))
[(2,)]
>>> query_file(client, "no_such_file.sql")
Traceback (most recent call last):
...
otel_impact.errors.StoreError: no_such_file.sql: no such SQL file
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from otel_impact.errors import StoreError
from otel_impact.store.failures import first_line
from otel_impact.store.sqltext import load_sql

Parameters = Mapping[str, Any]


class QueryResult(Protocol):
    """What the product reads from a query result (clickhouse-connect's ``QueryResult``)."""

    @property
    def result_rows(self) -> Sequence[Sequence[Any]]: ...

    @property
    def result_columns(self) -> Sequence[Sequence[Any]]: ...

    @property
    def column_names(self) -> Sequence[str]: ...

    @property
    def row_count(self) -> int: ...


@runtime_checkable
class StoreClient(Protocol):
    """The client methods the product calls (a subset of clickhouse-connect's ``Client``).

    ``database`` is the current database: every unqualified table name resolves there.
    """

    database: str | None

    def query(
        self,
        query: str | None = None,
        parameters: Sequence[Any] | dict[str, Any] | None = None,
        settings: dict[str, Any] | None = None,
    ) -> Any: ...

    def command(
        self,
        cmd: str,
        parameters: Sequence[Any] | dict[str, Any] | None = None,
        data: str | bytes | None = None,
        settings: dict[str, Any] | None = None,
    ) -> Any: ...

    def insert(
        self,
        table: str | None = None,
        data: Sequence[Sequence[Any]] | None = None,
        column_names: str | Sequence[str] | None = "*",
        *,
        database: str | None = None,
        column_type_names: Sequence[str] | None = None,
        column_oriented: bool = False,
        settings: dict[str, Any] | None = None,
    ) -> Any: ...


def sql_text(name: str, *, splice: Mapping[str, str] | None = None, strip_comments: bool = False) -> str:
    """The text of ``store/sql/<name>``; ``splice`` replaces markers (``/*SOURCE_SQL*/``) with
    already-checked SQL fragments; ``strip_comments`` drops ``--`` lines (for nested fragments)."""
    try:
        text = load_sql(name)
    except (FileNotFoundError, IsADirectoryError) as exc:
        raise StoreError(f"{name}: no such SQL file") from exc
    if strip_comments:
        text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    for marker, fragment in (splice or {}).items():
        text = text.replace(marker, fragment)
    return text


def query_text(
    client: StoreClient,
    text: str,
    parameters: Parameters | None = None,
    *,
    doing: str,
    settings: Mapping[str, Any] | None = None,
) -> QueryResult:
    """Run ``text`` with server-side ``parameters``; a failure is a StoreError starting with ``doing``.

    A missing table adds the hint to run ``otel-impact schema apply``.
    """
    try:
        result: QueryResult = client.query(
            text, parameters=dict(parameters or {}), settings=dict(settings) if settings else None
        )
    except Exception as exc:
        message = f"{doing} failed: {first_line(exc)}"
        if "UNKNOWN_TABLE" in str(exc):
            message += " — run `otel-impact schema apply` first?"
        raise StoreError(message) from exc
    return result


def query_file(
    client: StoreClient,
    name: str,
    parameters: Parameters | None = None,
    *,
    doing: str = "query",
    settings: Mapping[str, Any] | None = None,
    splice: Mapping[str, str] | None = None,
    strip_comments: bool = False,
) -> QueryResult:
    """Run the named file ``store/sql/<name>`` (see :func:`sql_text`, :func:`query_text`).

    A failure is a :class:`StoreError` naming ``doing`` and the file:
    ``"deployments query (deployments_events.sql) failed: Code: 60 …"``.
    """
    text = sql_text(name, splice=splice, strip_comments=strip_comments)
    return query_text(client, text, parameters, doing=f"{doing} ({name})", settings=settings)


def rows(result: QueryResult) -> list[tuple[Any, ...]]:
    """The result's rows as tuples."""
    return [tuple(r) for r in result.result_rows]


def dict_rows(result: QueryResult) -> list[dict[str, Any]]:
    """The result's rows as ``{column: value}`` dicts (empty when no rows: the embedded engine
    reports no column names for an empty result)."""
    if not result.result_rows:
        return []
    names = list(result.column_names)
    return [dict(zip(names, r, strict=True)) for r in result.result_rows]


__all__ = [
    "Parameters",
    "QueryResult",
    "StoreClient",
    "dict_rows",
    "query_file",
    "query_text",
    "rows",
    "sql_text",
]


if TYPE_CHECKING:  # mypy proves clickhouse-connect's client satisfies the protocol
    from clickhouse_connect.driver.client import Client

    def _conforms(client: Client) -> StoreClient:
        return client
