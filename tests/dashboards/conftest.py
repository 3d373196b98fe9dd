"""A reduced demo data set, generated once per module, that every dashboard query runs against.

The demo (simulated services → OTLP → embedded receiver → store → analyzer job → OTLP export of
``impact.*`` back into the store) runs in this process against a fresh database of the session's
in-memory engine, exactly like ``otel-impact demo``; the job writes its annotation rows. They are
then written again (``incident_annotations`` + ``write_annotations``) under two more run ids, so
the annotation query's deduplication has something to do.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, _dsn

DASHBOARDS = REPO / "dashboards"
END = datetime(2026, 11, 20, tzinfo=UTC)
DAYS = 20


@dataclass(frozen=True)
class DemoData:
    client: Any
    result: dict[str, Any]
    start: datetime  # simulated period
    end: datetime
    range_end: datetime  # end of the dashboards' time range: covers the metric points (wall clock)


def load_boards() -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(DASHBOARDS.glob("*.json"))}


@pytest.fixture(scope="module")
def boards() -> dict[str, dict[str, Any]]:
    return load_boards()


@pytest.fixture(scope="module")
def demo_data(engine_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoData]:
    import clickhouse_connect

    from otel_impact.demo.run import DemoOptions, run_demo
    from otel_impact.pipeline import to_jsonable
    from otel_impact.store.incidents import incident_annotations, write_annotations

    name = "t_dash_" + uuid.uuid4().hex[:10]
    out: Path = tmp_path_factory.mktemp("dash-demo")
    outcome = run_demo(
        DemoOptions(
            users=150, days=DAYS, seed=3, dsn=_dsn(), database=name, out=out, end=END, workers=0, llm=False
        )
    )
    client = clickhouse_connect.get_client(dsn=_dsn(), database=name)
    result = json.loads(json.dumps(to_jsonable(outcome.result)))
    points, stored_points, events, stored_events = client.query(
        "SELECT (SELECT sum(points) FROM impact_job_state), "
        "(SELECT count() FROM otel_metrics_gauge WHERE startsWith(MetricName, 'impact.')), "
        "(SELECT sum(events) FROM impact_job_state), "
        "(SELECT count() FROM otel_logs WHERE startsWith(EventName, 'impact.'))"
    ).result_rows[0]
    assert points == stored_points > 0, (
        f"the analyzer exported {points} impact.* points, the store has {stored_points}"
    )
    assert events == stored_events, (
        f"the analyzer exported {events} impact.* events, the store has {stored_events}"
    )
    for run_id in ("20261120T000000.000000Z-aaaaaaaa", "20261121T000000.000000Z-bbbbbbbb"):
        write_annotations(client, incident_annotations(outcome.result, run_id))
    try:
        yield DemoData(
            client,
            result,
            END - timedelta(days=DAYS),
            END,
            datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2),
        )
    finally:
        engine_client.command(f"DROP DATABASE IF EXISTS {name} SYNC")
