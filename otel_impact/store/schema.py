"""Create the store's tables and views, idempotently: ``apply_schema(client, database=...)``.

Every schema object is one ``.sql`` file in ``otel_impact/store/sql/schema/``, applied in file
name order. **Convention for adding a file** (other stages drop theirs in):

* name it ``NNN_<object>.sql`` with a three-digit prefix choosing its place: ``0xx`` the
  Collector exporter's tables (``010_otel_traces.sql`` …), ``1xx``–``4xx`` our ``impact_*``
  tables, ``5xx`` and up views over them (``500_impact_predictions.sql``);
* one ``CREATE TABLE|VIEW|MATERIALIZED VIEW IF NOT EXISTS {{db}}.<name> {{on_cluster}} …``
  statement per file (full-line ``--`` comments are allowed and stripped);
* ``{{include:NAME}}`` inserts ``sql/schema/include/NAME.sql`` (comments stripped) before
  anything else is rendered, so a view and a materialized view can share one SELECT
  (``impact_predictions`` and ``impact_predictions_typed_mv`` do);
* placeholders, rendered by :func:`render_statement` — never format values yourself:

  ``{{db}}``
      the quoted target database;
  ``{{on_cluster}}``
      ``ON CLUSTER `name``` with ``--cluster``, else empty;
  ``{{engine}}`` / ``{{engine:ReplacingMergeTree(ver)}}``
      ``MergeTree()`` (or the named family), or with ``--cluster`` its ``Replicated…`` form with
      ``'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'`` prepended to the arguments;
  ``{{ttl:<expr>}}``
      ``TTL <expr> + toIntervalDay(n)`` (hour/minute/second when not whole days, as the
      exporter renders it) with ``--ttl``, else empty;
  ``{{key:NAME}}``
      the :mod:`otel_impact.semconv` constant ``NAME`` as a quoted SQL string (attribute keys in
      views never drift from semconv);
* line directives ``-- @if <flag>`` / ``-- @else`` / ``-- @end`` keep one branch. Flags:
  ``fulltext`` (``text`` skip indexes, see below), ``cluster``, ``embedded`` (the store is
  embedded chDB, see "Merges on embedded chDB" below),
  ``logs_event_name`` (``otel_logs`` has the ``EventName`` column), ``traces_json`` /
  ``logs_json`` (an existing ``otel_traces`` / ``otel_logs`` stores attributes as ``JSON``
  columns, the exporter's ``json: true`` layout; the views then flatten them to a map).

**Skip-index kind.** The exporter creates ``text`` indexes on servers ≥ 26.2 and
``bloom_filter``/``tokenbf_v1`` indexes otherwise; the columns are identical either way. We do
the same on a ClickHouse server, but embedded chDB gets the bloom-filter branch by default:
there the array-tokenizer ``text`` indexes on attribute maps cost about as much engine CPU as
everything else in an insert (measured ≈2× insert throughput with bloom filters, see
``benchmarks/RESULTS.md``), and an embedded store is write-bound on one machine.
``apply_schema(..., text_indexes=True|False)`` / ``schema apply --index-kind text|bloom``
choose explicitly. The choice only applies to tables being created.

**Merges on embedded chDB.** The tables a trace insert writes (``otel_traces``, its trace-id
lookup table and ``impact_predictions_typed``) are created there with ``merge_selector_base =
10`` (the engine's default is 5): the receiver acknowledges a request only once it is stored, so
with few clients each insert holds only a few thousand spans, and re-merging those small parts
took a large share of the embedded engine's CPU. A larger base merges more
parts at once, less often: each row is rewritten fewer times, for somewhat more parts per
partition. Rows are the same either way; ClickHouse servers keep the exporter's settings
(measured in ``benchmarks/RESULTS.md``, "Receiver").

Tables are never altered: an existing table (for instance one a real Collector created) is
reported as present. Views and materialized views whose name starts with ``impact_`` are ours:
when their rendered text changed since the last apply (checksums live in
``impact_schema_version``) they are replaced (a materialized view is dropped and created again;
its target table keeps its rows). So applying twice changes nothing and :class:`SchemaResult`
says so.

**Typed tables.** ``impact_predictions_typed`` / ``impact_events_typed`` hold the rows of the
``impact_predictions`` / ``impact_events`` views, written at insert time by materialized views
on ``otel_traces`` / ``otel_logs`` (so any writer, a real Collector included, feeds them). Rows
already in the exporter tables when the materialized views are created are not in them:
:attr:`SchemaResult.backfill` names such tables and :mod:`otel_impact.store.backfill`
(``otel-impact schema backfill``) fills them.

>>> from otel_impact.store import connect
>>> client = connect("chdb://memory")
>>> result = apply_schema(client, database="doc_schema")
>>> apply_schema(client, database="doc_schema").changed
False
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import sys
from dataclasses import dataclass, field
from importlib import metadata, resources

from otel_impact import semconv
from otel_impact.errors import StoreError
from otel_impact.store.client import StoreClient
from otel_impact.store.sqltext import quote_identifier, quote_string

SCHEMA_VERSION = 2  # 2: typed tables impact_predictions_typed / impact_events_typed
FULLTEXT_MIN_VERSION = (26, 2)
REPLICATED_PATH = "'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'"
OUR_PREFIX = "impact_"
# materialized view -> (typed table it fills, exporter table it reads)
TYPED_SOURCES: dict[str, tuple[str, str]] = {
    semconv.MV_PREDICTIONS_TYPED: (semconv.TABLE_PREDICTIONS_TYPED, semconv.TABLE_TRACES),
    semconv.MV_EVENTS_TYPED: (semconv.TABLE_EVENTS_TYPED, semconv.TABLE_LOGS),
}

_INCLUDE = re.compile(r"\{\{\s*include:([a-z_]+)\s*\}\}")
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)(?::(.*?))?\s*\}\}")
_CREATE = re.compile(
    r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(MATERIALIZED\s+VIEW|VIEW|TABLE)\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    r"\{\{db\}\}\.`?([A-Za-z_][A-Za-z0-9_]*)`?",
    re.IGNORECASE,
)
_DIRECTIVE = re.compile(r"^\s*-- @(if |else\s*$|end\s*$)")
_ENGINE = re.compile(r"^([A-Za-z]*MergeTree)\((.*)\)$", re.DOTALL)


@dataclass(frozen=True)
class SchemaFile:
    """One schema file: the object it creates and its unrendered template."""

    filename: str
    name: str
    kind: str  # "TABLE", "VIEW" or "MATERIALIZED VIEW"
    template: str


@dataclass(frozen=True)
class SchemaOptions:
    """How to render the DDL: target database, cluster, TTL seconds and server facts."""

    database: str
    cluster: str | None = None
    ttl: float | None = None
    fulltext: bool = True
    logs_event_name: bool = True
    traces_json: bool = False
    logs_json: bool = False
    embedded: bool = False

    def flags(self) -> set[str]:
        flags = set()
        if self.embedded:
            flags.add("embedded")
        if self.traces_json:
            flags.add("traces_json")
        if self.logs_json:
            flags.add("logs_json")
        if self.fulltext:
            flags.add("fulltext")
        if self.cluster:
            flags.add("cluster")
        if self.logs_event_name:
            flags.add("logs_event_name")
        return flags


@dataclass(frozen=True)
class SchemaResult:
    """What ``apply_schema`` did: objects created, replaced (our views) and already present."""

    database: str
    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    present: tuple[str, ...] = ()
    statements: tuple[str, ...] = field(default=(), repr=False)
    backfill: tuple[str, ...] = ()  # typed tables created over exporter tables that already hold rows

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def summary(self) -> str:
        """Human summary, printed by ``otel-impact schema apply``."""
        if not self.changed:
            return (
                f"schema up to date in {self.database}: nothing to do ({len(self.present)} objects present)"
            )
        lines = [f"schema applied to {self.database}:"]
        lines += [f"  created  {name}" for name in self.created]
        lines += [f"  replaced {name}" for name in self.updated]
        if self.present:
            lines.append(f"  ({len(self.present)} already present: {', '.join(self.present)})")
        if self.backfill:
            lines.append(
                f"  {', '.join(self.backfill)}: rows written before this apply are not in them yet;"
                " run `otel-impact schema backfill`"
            )
        return "\n".join(lines)


def schema_files() -> list[SchemaFile]:
    """Every ``sql/schema/*.sql`` file in name order, parsed (ValueError names a bad file)."""
    folder = resources.files("otel_impact.store") / "sql" / "schema"
    files = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        template = _expand_includes(_strip_comments(entry.read_text(encoding="utf-8")), entry.name)
        match = _CREATE.match(template)
        if not match:
            raise ValueError(
                f"schema file {entry.name}: expected one CREATE TABLE|VIEW … IF NOT EXISTS {{{{db}}}}.<name>"
            )
        kind = " ".join(match.group(1).upper().split())
        files.append(SchemaFile(entry.name, match.group(2), kind, template))
    return files


def _expand_includes(template: str, filename: str) -> str:
    folder = resources.files("otel_impact.store") / "sql" / "schema" / "include"

    def include(match: re.Match[str]) -> str:
        entry = folder / f"{match.group(1)}.sql"
        if not entry.is_file():
            raise ValueError(f"schema file {filename}: no include/{match.group(1)}.sql")
        return _strip_comments(entry.read_text(encoding="utf-8"))

    return _INCLUDE.sub(include, template)


def _strip_comments(text: str) -> str:
    keep = [
        line for line in text.splitlines() if not line.lstrip().startswith("--") or _DIRECTIVE.match(line)
    ]
    return "\n".join(keep).strip().rstrip(";")


def render_statement(template: str, options: SchemaOptions) -> str:
    """Render one schema template (see the module docstring for placeholders and directives)."""
    text = _apply_directives(template, options.flags())
    text = _PLACEHOLDER.sub(lambda m: _render_placeholder(m.group(1), m.group(2), options), text)
    lines = [line.rstrip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line.strip())


def render_schema(options: SchemaOptions) -> list[tuple[SchemaFile, str]]:
    """Every schema file with its rendered statement, in apply order (no server needed)."""
    return [(f, render_statement(f.template, options)) for f in schema_files()]


def _apply_directives(template: str, flags: set[str]) -> str:
    out: list[str] = []
    stack: list[bool] = []  # whether the current branch is kept
    for line in template.splitlines():
        stripped = line.strip()
        if stripped.startswith("-- @if "):
            stack.append(stripped[len("-- @if ") :].strip() in flags)
        elif stripped == "-- @else":
            if not stack:
                raise ValueError("schema template: '-- @else' without '-- @if'")
            stack[-1] = not stack[-1]
        elif stripped == "-- @end":
            if not stack:
                raise ValueError("schema template: '-- @end' without '-- @if'")
            stack.pop()
        elif all(stack):
            out.append(line)
    if stack:
        raise ValueError("schema template: '-- @if' without '-- @end'")
    return "\n".join(out)


def _render_placeholder(name: str, arg: str | None, options: SchemaOptions) -> str:
    if name == "db":
        return quote_identifier(options.database)
    if name == "on_cluster":
        return f"ON CLUSTER {quote_identifier(options.cluster)}" if options.cluster else ""
    if name == "engine":
        return render_engine(arg or "MergeTree()", options.cluster)
    if name == "ttl":
        if not arg:
            raise ValueError("schema template: {{ttl:<expr>}} needs an expression")
        return render_ttl(arg, options.ttl)
    if name == "key":
        value = getattr(semconv, arg or "", None)
        if not isinstance(value, str):
            raise ValueError(f"schema template: {{{{key:{arg}}}}} is not a string constant in semconv")
        return quote_string(value)
    raise ValueError(f"schema template: unknown placeholder {{{{{name}}}}}")


def render_engine(engine: str, cluster: str | None) -> str:
    """``engine`` as written, or its Replicated form (ZooKeeper path + replica first) on a cluster.

    >>> render_engine("ReplacingMergeTree(v)", "c")
    "ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', v)"
    """
    engine = engine.strip()
    if not cluster:
        return engine
    match = _ENGINE.match(engine)
    if not match or match.group(1).startswith("Replicated"):
        return engine
    family, args = match.group(1), match.group(2).strip()
    return f"Replicated{family}({REPLICATED_PATH}{', ' + args if args else ''})"


def render_ttl(expr: str, seconds: float | None) -> str:
    """The exporter's TTL clause: whole days, else hours, else minutes, else seconds.

    >>> render_ttl("toDateTime(Timestamp)", 72 * 3600)
    'TTL toDateTime(Timestamp) + toIntervalDay(3)'
    """
    if not seconds or seconds <= 0:
        return ""
    whole = int(seconds)
    for unit, size in (("Day", 86400), ("Hour", 3600), ("Minute", 60)):
        if whole % size == 0:
            return f"TTL {expr} + toInterval{unit}({whole // size})"
    return f"TTL {expr} + toIntervalSecond({max(whole, 1)})"


def server_supports_fulltext(client: StoreClient) -> bool:
    """Whether the server takes ``text`` skip indexes (version ≥ 26.2), as the exporter decides."""
    try:
        version = str(client.command("SELECT version()"))
        major, minor = (int(part) for part in version.split(".")[:2])
    except Exception:
        return False  # the exporter falls back to bloom filters when the version is unreadable
    return (major, minor) >= FULLTEXT_MIN_VERSION


def is_embedded(client: StoreClient) -> bool:
    """Whether ``client`` talks to embedded chDB (not a ClickHouse server)."""
    module = sys.modules.get("clickhouse_connect.driver._chdbclient")
    return module is not None and isinstance(client, module.ChdbClient)


def default_text_indexes(client: StoreClient) -> bool:
    """The skip-index kind used when none is chosen: ``text`` on a server ≥ 26.2 (as the
    exporter decides), bloom filters on embedded chDB (cheaper inserts) and older servers."""
    return not is_embedded(client) and server_supports_fulltext(client)


def apply_schema(
    client: StoreClient,
    *,
    database: str | None = None,
    cluster: str | None = None,
    ttl: float | None = None,
    text_indexes: bool | None = None,
) -> SchemaResult:
    """Create every table and view in ``database`` (default: the client's) if missing.

    ``ttl`` is in seconds (exporter TTL clause on the exporter tables); ``cluster`` adds
    ``ON CLUSTER`` and Replicated engines. ``text_indexes`` picks the skip-index branch of the
    exporter tables (``None``: :func:`default_text_indexes`). Returns what was created,
    replaced or present.

    >>> from otel_impact.store import connect
    >>> apply_schema(connect("chdb://memory"), database="doc_apply").database
    'doc_apply'
    """
    database = database or client.database or "default"
    on_cluster = f" ON CLUSTER {quote_identifier(cluster)}" if cluster else ""
    _run(client, f"CREATE DATABASE IF NOT EXISTS {quote_identifier(database)}{on_cluster}", database)
    existing = _existing_objects(client, database)
    options = schema_options(
        client, database, cluster=cluster, ttl=ttl, text_indexes=text_indexes, existing=existing
    )
    checksums = _recorded_checksums(client, database, existing)
    created: list[str] = []
    updated: list[str] = []
    present: list[str] = []
    statements: list[str] = []
    records: list[tuple[str, str, str]] = []
    backfill: list[str] = []
    for schema_file, statement in render_schema(options):
        checksum = hashlib.sha256(statement.encode()).hexdigest()[:16]
        name = schema_file.name
        if name in existing:
            ours_view = schema_file.kind in ("VIEW", "MATERIALIZED VIEW") and name.startswith(OUR_PREFIX)
            if not ours_view or checksums.get(name) == checksum:
                present.append(name)
                continue
            if schema_file.kind == "VIEW":
                statement = _as_replace(statement)
            else:  # a materialized view cannot be replaced in place; its TO table keeps its rows
                drop = f"DROP VIEW IF EXISTS {quote_identifier(database)}.{quote_identifier(name)}{on_cluster} SYNC"
                _run(client, drop, database, name)
            updated.append(name)
        else:
            target = TYPED_SOURCES.get(name)
            if target is not None and _engine(client, database, target[0]) == "Distributed":
                # several shards: each shard's materialized view fills its local typed table
                # (schema apply on the shards' database); a second one here would write twice
                present.append(name)
                continue
            created.append(name)
            if target is not None and _has_rows(client, database, target[1], existing):
                backfill.append(target[0])
        _run(client, statement, database, name)
        statements.append(statement)
        records.append((name, schema_file.kind, checksum))
    if records:
        _record(client, database, records)
    return SchemaResult(
        database, tuple(created), tuple(updated), tuple(present), tuple(statements), tuple(backfill)
    )


def schema_options(
    client: StoreClient,
    database: str,
    *,
    cluster: str | None = None,
    ttl: float | None = None,
    text_indexes: bool | None = None,
    existing: set[str] | None = None,
) -> SchemaOptions:
    """How the schema renders for ``database`` on this server (layout of existing exporter tables)."""
    if existing is None:
        existing = _existing_objects(client, database)
    return SchemaOptions(
        database=database,
        cluster=cluster,
        ttl=ttl,
        fulltext=default_text_indexes(client) if text_indexes is None else text_indexes,
        logs_event_name=_has_column(client, database, semconv.TABLE_LOGS, "EventName", existing),
        traces_json=_is_json(client, database, semconv.TABLE_TRACES, "SpanAttributes", existing),
        logs_json=_is_json(client, database, semconv.TABLE_LOGS, "LogAttributes", existing),
        embedded=is_embedded(client),
    )


def _as_replace(statement: str) -> str:
    return re.sub(
        r"^\s*CREATE\s+VIEW\s+IF\s+NOT\s+EXISTS", "CREATE OR REPLACE VIEW", statement, count=1, flags=re.I
    )


def _run(client: StoreClient, statement: str, database: str, name: str | None = None) -> None:
    try:
        client.command(statement)
    except Exception as exc:
        what = f"{database}.{name}" if name else database
        raise StoreError(f"schema: cannot create {what}: {_first_line(exc)}") from exc


def _existing_objects(client: StoreClient, database: str) -> set[str]:
    try:
        result = client.query(
            "SELECT name FROM system.tables WHERE database = {db:String}", parameters={"db": database}
        )
    except Exception as exc:
        raise StoreError(f"schema: cannot list tables of {database}: {_first_line(exc)}") from exc
    return {row[0] for row in result.result_rows}


def _engine(client: StoreClient, database: str, table: str) -> str:
    result = client.query(
        "SELECT engine FROM system.tables WHERE database = {db:String} AND name = {t:String}",
        parameters={"db": database, "t": table},
    )
    return str(result.result_rows[0][0]) if result.result_rows else ""


def _has_rows(client: StoreClient, database: str, table: str, existing: set[str]) -> bool:
    if table not in existing:
        return False
    result = client.query(
        "SELECT count() > 0 FROM {db:Identifier}.{t:Identifier}", parameters={"db": database, "t": table}
    )
    return bool(result.result_rows[0][0])


def _has_column(client: StoreClient, database: str, table: str, column: str, existing: set[str]) -> bool:
    if table not in existing:
        return True
    result = client.query(
        "SELECT count() FROM system.columns WHERE database = {db:String} AND table = {t:String} AND name = {c:String}",
        parameters={"db": database, "t": table, "c": column},
    )
    return bool(result.result_rows[0][0])


def _is_json(client: StoreClient, database: str, table: str, column: str, existing: set[str]) -> bool:
    """Whether an existing ``table.column`` is a ``JSON`` column (exporter ``json: true``)."""
    if table not in existing:
        return False
    result = client.query(
        "SELECT type FROM system.columns WHERE database = {db:String} AND table = {t:String} AND name = {c:String}",
        parameters={"db": database, "t": table, "c": column},
    )
    return bool(result.result_rows) and str(result.result_rows[0][0]).startswith("JSON")


def _recorded_checksums(client: StoreClient, database: str, existing: set[str]) -> dict[str, str]:
    if semconv.TABLE_SCHEMA_VERSION not in existing:
        return {}
    result = client.query(
        "SELECT object, argMax(checksum, applied_at) FROM {db:Identifier}.{t:Identifier} GROUP BY object",
        parameters={"db": database, "t": semconv.TABLE_SCHEMA_VERSION},
    )
    return {row[0]: row[1] for row in result.result_rows}


def _record(client: StoreClient, database: str, records: list[tuple[str, str, str]]) -> None:
    try:
        package_version = metadata.version("otel-impact")
    except metadata.PackageNotFoundError:
        package_version = "unknown"
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = [[SCHEMA_VERSION, name, kind, checksum, now, package_version] for name, kind, checksum in records]
    try:
        client.insert(
            semconv.TABLE_SCHEMA_VERSION,
            rows,
            database=database,
            column_names=["version", "object", "kind", "checksum", "applied_at", "package_version"],
        )
    except Exception as exc:
        raise StoreError(f"schema: cannot record the applied version: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    lines = (str(exc).strip() or type(exc).__name__).splitlines()
    return lines[0][:400]
