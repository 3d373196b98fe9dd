"""The same store against a real ClickHouse server (runs only with OTEL_IMPACT_TEST_CLICKHOUSE_DSN)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from otel_impact import semconv
from otel_impact.store import apply_schema, connect, read_predictions, write_traces
from tests.store.test_store_roundtrip import WINDOW, prediction_span, traces

DSN = os.environ.get(semconv.ENV_TEST_CLICKHOUSE_DSN, "")
pytestmark = [
    pytest.mark.clickhouse_server,
    pytest.mark.skipif(
        not DSN.startswith(("http://", "https://")),
        reason=f"set {semconv.ENV_TEST_CLICKHOUSE_DSN}=http(s)://user@host:8123 to run against a server",
    ),
]


@pytest.fixture()
def server_db() -> Iterator[tuple[Any, str]]:
    client = connect(DSN)
    name = "t_" + uuid.uuid4().hex[:12]
    try:
        yield client, name
    finally:
        client.command(f"DROP DATABASE IF EXISTS {name}")


def test_server_apply_is_idempotent_and_round_trips(server_db: tuple[Any, str]) -> None:
    client, name = server_db
    first = apply_schema(client, database=name)
    assert set(semconv.EXPORTER_TABLES) <= set(first.created)
    assert not apply_schema(client, database=name).changed
    db_client = connect(DSN, database=name)
    assert write_traces(db_client, [traces(prediction_span(0), prediction_span(1))]) == 2
    assert read_predictions(db_client, *WINDOW)["prediction_id"].tolist() == ["p0", "p1"]
