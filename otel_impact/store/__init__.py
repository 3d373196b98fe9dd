"""The ClickHouse store: connection, exporter-layout schema, writers and readers.

>>> from otel_impact.store import connect, apply_schema
>>> client = connect("chdb://memory")
>>> apply_schema(client, database="doc_store").database
'doc_store'
"""

from otel_impact.store.connect import connect, default_dsn, parse_dsn
from otel_impact.store.schema import SchemaResult, apply_schema

__all__ = ["SchemaResult", "apply_schema", "connect", "default_dsn", "parse_dsn"]
