"""Write OTLP export requests into the exporter tables (used by the receiver and the demo).

Each writer converts a batch of decoded requests column-wise (:mod:`.columns`,
:mod:`.metric_columns`) and sends one column-oriented INSERT per table into the client's
current database, so a batch costs one round trip per table. Spans, the volume signal, can
also be converted apart from the insert (:func:`prepare_traces` → :class:`PreparedInsert`), so
a pipeline converts one batch while the engine inserts the previous one.

Encoded trace requests (protobuf bytes, as received) can skip Python conversion altogether:
:func:`write_encoded_traces` hands them to the engine, which parses and converts them itself
(``sql/traces_from_otlp.sql``, :mod:`.otlp_input`) — same rows, a fraction of the CPU, and the
engine's work runs outside the GIL. Requests holding array/kvlist attribute values, which only
the Python conversion renders, must be written with :func:`write_traces`
(:func:`~.otlp_input.plain_values` tells them apart).

>>> from otel_impact.store import apply_schema, connect
>>> from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
>>> client = connect("chdb://memory")
>>> _ = apply_schema(client, database="doc_writers")
>>> client.database = "doc_writers"
>>> write_traces(client, [ExportTraceServiceRequest()])
0
"""

from __future__ import annotations

import contextlib
import gc
import os
import tempfile
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from otel_impact import semconv
from otel_impact.errors import StoreError
from otel_impact.store.client import StoreClient
from otel_impact.store.columns import TRACE_COLUMNS, log_columns, trace_columns
from otel_impact.store.failures import store_error
from otel_impact.store.metric_columns import metric_columns
from otel_impact.store.otlp_input import (
    MESSAGE,
    STRUCTURE,
    count_spans,
    frame,
    schema_path,
    workdir,
)
from otel_impact.store.sqltext import load_sql

_EVENT_NAME_COLUMN = "EventName"
# per client: {(database, table): {column: type}}; weak so clients can be garbage-collected
_TYPES_CACHE: weakref.WeakKeyDictionary[Any, dict[tuple[str, str], dict[str, str]]] = (
    weakref.WeakKeyDictionary()
)


@dataclass(frozen=True, slots=True)
class PreparedInsert:
    """Columns converted for one table, ready to insert (possibly more than once, on retry).

    Conversion is pure and may run on any thread; :meth:`insert` uses the client and belongs on
    the thread that owns it. Splitting the two lets the receiver convert batch N+1 while chDB
    inserts batch N (the engine releases the GIL while it inserts).
    """

    table: str
    columns: dict[str, list[Any]]
    rows: int

    def insert(self, client: StoreClient) -> int:
        """Insert into ``table`` in the client's current database; returns the rows written."""
        return _insert(client, self.table, self.columns)


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building columns.

    Conversion allocates a few dicts and lists per span, which keeps triggering collections
    that traverse every live object (measured: ≈30 % of conversion time at 20,000 spans per
    batch). The columns hold no reference cycles, so reference counting frees them anyway.
    Nested or concurrent use is harmless: only the outermost caller that found it enabled
    turns it back on.
    """
    was_enabled = gc.isenabled()
    if was_enabled:
        gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def prepare_traces(requests: Sequence[Any]) -> PreparedInsert:
    """Convert the spans of ``requests`` for ``otel_traces`` (pure, no client needed)."""
    with _no_cyclic_gc():
        cols = trace_columns(requests)
    return PreparedInsert(semconv.TABLE_TRACES, cols, len(cols[TRACE_COLUMNS[0]]))


def write_traces(client: StoreClient, requests: Sequence[Any]) -> int:
    """Insert the spans of ``requests`` into ``otel_traces``; returns the number of spans."""
    return prepare_traces(requests).insert(client)


@dataclass(frozen=True, slots=True)
class PreparedEncodedInsert:
    """Encoded trace requests framed for the engine's ``Protobuf`` input, ready to insert."""

    data: bytes
    rows: int  # spans in the requests

    def insert(self, client: Any) -> int:
        """Parse, convert and insert into ``otel_traces`` inside the engine; returns spans written.

        The framed requests go through a temporary file (as clickhouse-connect's own chDB
        inserts do), read by one ``INSERT … SELECT``: one statement, so it is all or nothing.
        """
        if not self.rows:
            return 0
        fd, path = tempfile.mkstemp(prefix="requests-", suffix=".otlp", dir=workdir())
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(self.data)
            client.command(
                load_sql("traces_from_otlp.sql"),
                parameters={
                    "path": path,
                    "structure": STRUCTURE,
                    "schema": schema_path(),
                    "message": MESSAGE,
                    "service_key": semconv.SERVICE_NAME,
                },
            )
        except Exception as exc:
            raise store_error(
                exc, "cannot write encoded spans to otel_traces", table=semconv.TABLE_TRACES
            ) from exc
        finally:
            with contextlib.suppress(OSError):
                os.unlink(path)
        return self.rows


def engine_reads_encoded(client: Any) -> bool:
    """True when ``client`` runs the engine in this process (embedded chDB), so the engine can
    read the temporary file :meth:`PreparedEncodedInsert.insert` writes; a ClickHouse server
    would look for it on its own machine."""
    try:
        from clickhouse_connect.driver._chdbclient import ChdbClient
    except ImportError:  # chdb not installed: no embedded engine
        return False
    return isinstance(client, ChdbClient)


def prepare_encoded_traces(
    bodies: Sequence[bytes | bytearray], spans: int | None = None
) -> PreparedEncodedInsert:
    """Frame encoded ``ExportTraceServiceRequest`` bodies for :meth:`PreparedEncodedInsert.insert`.

    Every body must satisfy :func:`~.otlp_input.plain_values` (no array/kvlist values) and hold
    only spans the store accepts (the receiver's admission); ``spans`` is their count if known
    (else they are counted here).
    """
    return PreparedEncodedInsert(frame(bodies), count_spans(bodies) if spans is None else spans)


def write_encoded_traces(client: Any, bodies: Sequence[bytes | bytearray], spans: int | None = None) -> int:
    """Insert the spans of encoded trace requests, converted by the engine (see the module docstring).

    Returns the number of spans written.
    """
    return prepare_encoded_traces(bodies, spans).insert(client)


def write_logs(client: StoreClient, requests: Sequence[Any]) -> int:
    """Insert the log records of ``requests`` into ``otel_logs``; returns the number of records.

    ``EventName`` is written only when the table has it (tables from older Collectors don't).
    """
    has_event_name = _EVENT_NAME_COLUMN in table_types(client, semconv.TABLE_LOGS)
    with _no_cyclic_gc():
        cols = log_columns(requests, event_name=has_event_name)
    return _insert(client, semconv.TABLE_LOGS, cols)


def write_metrics(client: StoreClient, requests: Sequence[Any]) -> dict[str, int]:
    """Insert the points of ``requests`` into the five metric tables; returns points per table.

    Tables of the pre-2026-07 layout (``TimeUnix DateTime64(9)``) get full nanoseconds.
    """
    nanos = table_types(client, semconv.TABLE_METRICS_GAUGE).get("TimeUnix", "").startswith("DateTime64")
    counts: dict[str, int] = {}
    with _no_cyclic_gc():
        tables = metric_columns(requests, nanos=nanos)
    for table, cols in tables.items():
        counts[table] = _insert(client, table, cols)
    return counts


def _insert(client: StoreClient, table: str, cols: dict[str, list[Any]]) -> int:
    rows = len(next(iter(cols.values()))) if cols else 0
    if not rows:
        return 0
    types = table_types(client, table)
    try:
        type_names = [types[name] for name in cols]
    except KeyError as exc:
        raise StoreError(
            f"cannot write to {table}: it has no column {exc.args[0]} (not the exporter layout?)"
        ) from None
    try:
        client.insert(
            table,
            list(cols.values()),
            column_names=list(cols),
            column_type_names=type_names,
            column_oriented=True,
        )
    except Exception as exc:
        raise store_error(exc, f"cannot write {rows} rows to {table}", table=table) from exc
    return rows


def table_types(client: StoreClient, table: str) -> dict[str, str]:
    """``{column: type}`` of ``table`` in the client's database, cached per client.

    Passing the types to ``insert`` spares clickhouse-connect a DESCRIBE per insert (measured:
    about half the cost of a 1,000-span insert into chDB).
    """
    key = (str(client.database or ""), table)
    try:
        per_client = _TYPES_CACHE.setdefault(client, {})
    except TypeError:  # client type not weak-referenceable: no caching
        per_client = {}
    types = per_client.get(key)
    if types is None:
        try:
            result = client.query(
                "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {t:String}",
                parameters={"t": table},
            )
        except Exception as exc:
            raise store_error(exc, f"cannot inspect {table}", table=table) from exc
        types = {name: typ for name, typ in result.result_rows}
        if not types:
            raise StoreError(
                f"table {table} does not exist in database {key[0] or 'default'}; run `otel-impact schema apply` first"
            )
        per_client[key] = types
    return types
