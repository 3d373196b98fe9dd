"""The analyzer job's own state in the store: the run log with its watermark, and the lock table.

* ``impact_job_state`` — one row per run (:func:`record_run`); the watermark of a job is the
  window end of its latest run with status ``ok`` (:func:`read_watermark`).
* ``impact_job_lock`` — the append-only lock rows of :mod:`otel_impact.joblock`
  (:func:`read_lock_claims`, :func:`write_lock_row`); the protocol itself lives there.

>>> from otel_impact.store import apply_schema, connect
>>> client = connect("chdb://memory")
>>> apply_schema(client, database="doc_jobstate").database
'doc_jobstate'
>>> client.database = "doc_jobstate"
>>> read_watermark(client, "impact") is None
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from otel_impact import semconv as sc
from otel_impact.errors import StoreError
from otel_impact.store.client import StoreClient, query_file, rows

RUN_COLUMNS = (
    "job",
    "run_id",
    "status",
    "window_start",
    "watermark",
    "started_at",
    "finished_at",
    "points",
    "events",
    "alerts",
    "message",
)
LOCK_COLUMNS = ("job", "token", "owner", "host", "pid", "acquired_at", "expires_at", "released")


def _aware(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def require_tables(client: StoreClient, *tables: str) -> None:
    """Raise :class:`StoreError` naming the first of ``tables`` missing from the current database."""
    for table in tables:
        try:
            exists = client.command("EXISTS TABLE {t:Identifier}", parameters={"t": table})
        except Exception as exc:
            raise StoreError(f"cannot check table {table}: {exc}") from exc
        if str(exists).strip() not in ("1", "True"):
            raise StoreError(
                f"table {table} does not exist in database {client.database!r}; "
                "run `otel-impact schema apply` first"
            )


def read_watermark(client: StoreClient, job: str) -> datetime | None:
    """Window end of the job's latest successful run, or None if it never succeeded."""
    require_tables(client, sc.TABLE_JOB_STATE)
    found = rows(query_file(client, "job_watermark.sql", {"job": job}, doing=f"watermark of job {job!r}"))
    if not found or int(found[0][1]) == 0:
        return None
    return _aware(found[0][0])


@dataclass(frozen=True)
class RunRecord:
    """One row of the run log (``impact_job_state``)."""

    job: str
    run_id: str
    status: str  # ok | not_exported | export_failed | failed
    window_start: datetime
    watermark: datetime | None  # None: the window start
    started: datetime
    points: int = 0
    events: int = 0
    alerts: int = 0
    message: str = ""


def record_run(client: StoreClient, run: RunRecord) -> None:
    """Append ``run`` to the run log, stamped with the current time as its finish."""
    row = [
        run.job,
        run.run_id,
        run.status,
        run.window_start,
        run.watermark or run.window_start,
        run.started,
        datetime.now(UTC),
        run.points,
        run.events,
        run.alerts,
        run.message[:2000],
    ]
    client.insert(sc.TABLE_JOB_STATE, [row], column_names=list(RUN_COLUMNS))


def read_lock_claims(client: StoreClient, job: str, now: datetime) -> list[tuple[Any, ...]]:
    """Live lock tokens of ``job`` at ``now``: (token, owner, host, pid, acquired_at, expires_at,
    confirmed), confirmed first, then by (acquired_at, token)."""
    return rows(
        query_file(client, "job_lock_claims.sql", {"job": job, "now": now}, doing=f"the lock of job {job!r}")
    )


def write_lock_row(client: StoreClient, row: Sequence[Any]) -> None:
    """Append one lock row (columns :data:`LOCK_COLUMNS`)."""
    try:
        client.insert(sc.TABLE_JOB_LOCK, [list(row)], column_names=list(LOCK_COLUMNS))
    except Exception as exc:
        raise StoreError(f"cannot write the lock of job {row[0]!r}: {exc}") from exc


__all__ = [
    "LOCK_COLUMNS",
    "RUN_COLUMNS",
    "RunRecord",
    "read_lock_claims",
    "read_watermark",
    "record_run",
    "require_tables",
    "write_lock_row",
]
