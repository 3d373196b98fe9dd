"""The ClickHouse store: connection, exporter-layout schema, writers and readers.

* :func:`connect` — a clickhouse-connect client from a DSN (embedded chDB or a server).
* :func:`apply_schema` — the Collector exporter's tables plus our ``impact_*`` tables/views.
* :func:`write_traces`, :func:`write_logs`, :func:`write_metrics` — OTLP requests → tables.
* :func:`read_predictions`, :func:`read_events`, :func:`read_outcomes`,
  :func:`read_pipeline_events`, :func:`read_business_events` — typed tables → numpy columns.

>>> from otel_impact.store import connect, apply_schema
>>> client = connect("chdb://memory")
>>> apply_schema(client, database="doc_store").database
'doc_store'
"""

from otel_impact.store.connect import connect, default_dsn, parse_dsn, use_database
from otel_impact.store.readers import (
    EVENT_COLUMNS,
    PREDICTION_COLUMNS,
    read_business_events,
    read_events,
    read_outcomes,
    read_pipeline_events,
    read_predictions,
)
from otel_impact.store.schema import SchemaResult, apply_schema
from otel_impact.store.writers import write_logs, write_metrics, write_traces

__all__ = [
    "EVENT_COLUMNS",
    "PREDICTION_COLUMNS",
    "SchemaResult",
    "apply_schema",
    "connect",
    "default_dsn",
    "parse_dsn",
    "read_business_events",
    "read_events",
    "read_outcomes",
    "read_pipeline_events",
    "read_predictions",
    "use_database",
    "write_logs",
    "write_metrics",
    "write_traces",
]
