"""Fill (or re-derive) the typed tables from the exporter tables: ``backfill(client)``.

``impact_predictions_typed`` and ``impact_events_typed`` are written by materialized views at
insert time, so they hold nothing that was in ``otel_traces`` / ``otel_logs`` before
``schema apply`` created them (a Collector that ran first, an upgrade from a store without typed
tables), and a typed prediction row keeps the ``llm.version_attributes`` setting that was in force
when its span was inserted. :func:`backfill` rebuilds the typed rows of whole days from the
exporter tables with the materialized view's own SELECT (the view's derivation, the current
setting):

* per day partition: the day's derived rows go into a staging table of the same layout, then
  ``ALTER TABLE … REPLACE PARTITION`` swaps them in at once (a day that derives no rows is
  dropped). Readers never see a half-filled day, and running it twice gives the same rows.
* Rows inserted into a day *while that day is being rebuilt* may be missing from the typed table
  afterwards (they stay in the exporter table): backfill days that are no longer being written,
  or run it again for the current day.

On a cluster the staging table is local and plain MergeTree; ``REPLACE PARTITION`` into the
Replicated typed table replicates the result.

>>> from otel_impact.store import apply_schema, connect
>>> client = connect("chdb://memory")
>>> _ = apply_schema(client, database="doc_backfill")
>>> client.database = "doc_backfill"
>>> [r.rows for r in backfill(client)]
[0, 0]
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from otel_impact import semconv
from otel_impact.errors import StoreError
from otel_impact.store.schema import (
    TYPED_SOURCES,
    SchemaOptions,
    render_statement,
    schema_files,
    schema_options,
)
from otel_impact.store.sqltext import quote_identifier

# what `table` names -> materialized view
TYPED_TABLES: dict[str, str] = {
    "predictions": semconv.MV_PREDICTIONS_TYPED,
    "events": semconv.MV_EVENTS_TYPED,
}
_STAGING_SUFFIX = "_backfill"


@dataclass(frozen=True)
class BackfillResult:
    """One typed table rebuilt: the days (partitions) replaced and the rows they now hold."""

    table: str
    days: tuple[dt.date, ...]
    rows: int
    seconds: float

    def summary(self) -> str:
        if not self.days:
            return f"{self.table}: no source rows in the range, nothing to do"
        return (
            f"{self.table}: {self.rows:,} rows in {len(self.days)} day(s) "
            f"{self.days[0]}..{self.days[-1]} ({self.seconds:.1f} s)"
        )


def backfill(
    client: Any,
    *,
    tables: tuple[str, ...] = ("predictions", "events"),
    since: dt.date | None = None,
    until: dt.date | None = None,
    llm_only: bool = False,
) -> list[BackfillResult]:
    """Rebuild the typed tables' days in ``[since, until]`` (default: every day the source holds).

    ``tables`` picks ``"predictions"`` and/or ``"events"``. ``llm_only`` limits the predictions
    to the days that hold LLM rows (what a change of ``llm.version_attributes`` affects).
    Works in the client's current database, on a schema applied by ``schema apply``.
    """
    for name in tables:
        if name not in TYPED_TABLES:
            raise ValueError(f"tables: unknown typed table {name!r} (choose from {', '.join(TYPED_TABLES)})")
    if since is not None and until is not None and since > until:
        raise ValueError(f"since ({since}) is after until ({until})")
    database = client.database or "default"
    options = schema_options(client, database)
    files = {f.name: f for f in schema_files()}
    results = []
    for name in tables:
        mv = TYPED_TABLES[name]
        typed, source = TYPED_SOURCES[mv]
        select = _select_of(render_statement(files[mv].template, options))
        staging_options = SchemaOptions(
            database=database,
            fulltext=options.fulltext,
            logs_event_name=options.logs_event_name,
            traces_json=options.traces_json,
            logs_json=options.logs_json,
        )
        staging = typed + _STAGING_SUFFIX
        template = files[typed].template.replace(f"{{{{db}}}}.{typed}", f"{{{{db}}}}.{staging}", 1)
        t0 = time.perf_counter()
        days = _days(client, source, since, until)
        if llm_only and name == "predictions":
            days = [d for d in days if d in set(_llm_days(client, typed))]
        rows = 0
        _run(client, "DROP TABLE IF EXISTS {t:Identifier}", {"t": staging})
        _run(client, render_statement(template, staging_options), {})
        try:
            for day in days:
                rows += _replace_day(client, typed, staging, select, day)
        finally:
            _run(client, "DROP TABLE IF EXISTS {t:Identifier}", {"t": staging})
        results.append(BackfillResult(typed, tuple(days), rows, time.perf_counter() - t0))
    return results


def _select_of(statement: str) -> str:
    """The SELECT of a rendered ``CREATE MATERIALIZED VIEW … TO … AS SELECT …`` statement."""
    _, sep, select = statement.partition("\nAS SELECT")
    if not sep:
        raise ValueError("materialized view statement without a line starting 'AS SELECT'")
    return "SELECT" + select


def _replace_day(client: Any, typed: str, staging: str, select: str, day: dt.date) -> int:
    params = {"staging": staging, "typed": typed, "day": day}
    _run(client, "TRUNCATE TABLE {staging:Identifier}", params)
    # the day filter on the derived ts is pushed down to the source table's Timestamp
    _run(
        client,
        f"INSERT INTO {{staging:Identifier}} SELECT * FROM ({select}) WHERE toDate(ts) = {{day:Date}}",
        params,
    )
    count = client.query("SELECT count() FROM {staging:Identifier}", parameters=params).result_rows[0][0]
    if count:
        # REPLACE PARTITION … FROM takes no query parameter for the table: quoted by the helper
        replace = f"ALTER TABLE {{typed:Identifier}} REPLACE PARTITION {{day:Date}} FROM {quote_identifier(staging)}"
        _run(client, replace, params)
    else:
        _run(client, "ALTER TABLE {typed:Identifier} DROP PARTITION {day:Date}", params)
    return int(count)


def _days(client: Any, source: str, since: dt.date | None, until: dt.date | None) -> list[dt.date]:
    res = client.query(
        "SELECT DISTINCT toDate(Timestamp) AS d FROM {t:Identifier}"
        " WHERE ({since:Nullable(Date)} IS NULL OR d >= {since:Nullable(Date)})"
        " AND ({until:Nullable(Date)} IS NULL OR d <= {until:Nullable(Date)}) ORDER BY d",
        parameters={"t": source, "since": since, "until": until},
    )
    return [row[0] for row in res.result_rows]


def _llm_days(client: Any, typed: str) -> list[dt.date]:
    res = client.query(
        "SELECT DISTINCT toDate(ts) FROM {t:Identifier} WHERE source != 'ml'", parameters={"t": typed}
    )
    return [row[0] for row in res.result_rows]


def _run(client: Any, statement: str, params: dict[str, Any]) -> None:
    try:
        client.command(statement, parameters=params)
    except Exception as exc:
        first = (str(exc).strip() or type(exc).__name__).splitlines()[0][:400]
        raise StoreError(f"backfill: {first}") from exc


__all__ = ["TYPED_TABLES", "BackfillResult", "backfill"]
