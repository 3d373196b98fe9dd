"""Open the ClickHouse store: one DSN picks embedded chDB or a ClickHouse server.

DSNs:

* ``chdb:///abs/path`` — embedded chDB on disk (the directory is created).
* ``chdb://memory`` — embedded chDB in memory (every client in the process shares it).
* ``http(s)://user:pass@host:port/db`` — a ClickHouse server or cluster.

Without a DSN, ``$OTEL_IMPACT_CLICKHOUSE_DSN`` is used, else embedded chDB at
``./.otel-impact/db`` (made absolute). The password of a server DSN may come from
``$OTEL_IMPACT_CLICKHOUSE_PASSWORD`` or the file named by ``$OTEL_IMPACT_CLICKHOUSE_PASSWORD_FILE``
so it never has to sit in committed configuration.

chDB runs one engine per process and locks its directory; both limits surface as one clear
:class:`~otel_impact.errors.StoreError` (:class:`~otel_impact.errors.StoreLockedError` for a
directory held by another process, naming that process) instead of a raw engine message.

>>> client = connect("chdb://memory")
>>> client.command("SELECT 1")
1
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from otel_impact import semconv
from otel_impact.errors import StoreError, StoreLockedError
from otel_impact.store.client import StoreClient
from otel_impact.store.sqltext import quote_identifier

_MEMORY = ("memory", ":memory:")
_ENGINE_DSN: str | None = None  # the embedded engine this process opened through connect()
_LOCK_ADVICE = (
    "stop it, or use `otel-impact collect --analyze-config …` in that process, "
    "or use a ClickHouse server (--dsn http://host:8123)"
)


@dataclass(frozen=True)
class Dsn:
    """A parsed store DSN. ``path`` is None for memory and server DSNs."""

    scheme: str  # "chdb", "http" or "https"
    path: str | None = None
    url: str | None = None  # server URL without the password
    database: str | None = None
    username: str | None = None
    password: str | None = None

    @property
    def embedded(self) -> bool:
        return self.scheme == "chdb"

    def display(self) -> str:
        """The DSN as it may be printed (never with a password)."""
        if self.scheme == "chdb":
            return f"chdb://{self.path}" if self.path else "chdb://memory"
        return self.url or ""


def default_dsn() -> str:
    """``$OTEL_IMPACT_CLICKHOUSE_DSN``, else ``chdb://<abs ./.otel-impact/db>``."""
    env = os.environ.get(semconv.ENV_CLICKHOUSE_DSN, "").strip()
    if env:
        return env
    return "chdb://" + str(Path(semconv.DEFAULT_DB_PATH).resolve())


def parse_dsn(dsn: str) -> Dsn:
    """Parse ``dsn``; a malformed one raises :class:`StoreError` saying what is accepted."""
    accepted = "expected chdb:///abs/path, chdb://memory or http(s)://user@host:port/db"
    try:
        parts = urlsplit(dsn.strip())
    except ValueError as exc:
        raise StoreError(f"bad DSN {dsn!r}: {exc}; {accepted}") from exc
    scheme = parts.scheme.lower()
    if scheme == "chdb":
        if parts.netloc in _MEMORY:  # chdb://memory or chdb://memory/<database>
            database = unquote(parts.path.strip("/")) or None
            if database and "/" in database:
                raise StoreError(f"bad DSN {dsn!r}: expected chdb://memory or chdb://memory/<database>")
            return Dsn("chdb", database=database)
        if parts.netloc:
            raise StoreError(f"bad DSN {dsn!r}: a chdb path must be absolute (chdb:///abs/path); {accepted}")
        if not parts.path.startswith("/") or parts.path == "/":
            raise StoreError(f"bad DSN {dsn!r}: {accepted}")
        return Dsn("chdb", path=os.path.realpath(unquote(parts.path)))
    if scheme in ("http", "https"):
        if not parts.hostname:
            raise StoreError(f"bad DSN {dsn!r}: no host; {accepted}")
        try:
            port = parts.port
        except ValueError as exc:
            raise StoreError(f"bad DSN {dsn!r}: bad port; {accepted}") from exc
        database = unquote(parts.path.strip("/")) or None
        host = parts.hostname + (f":{port}" if port else "")
        url = urlunsplit((scheme, host, "", "", ""))
        return Dsn(
            scheme,
            url=url,
            database=database,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
        )
    raise StoreError(f"bad DSN {dsn!r}: unknown scheme {parts.scheme!r}; {accepted}")


def _password_from_env() -> str | None:
    password = os.environ.get(semconv.ENV_CLICKHOUSE_PASSWORD)
    if password:
        return password
    path = os.environ.get(semconv.ENV_CLICKHOUSE_PASSWORD_FILE)
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise StoreError(
                f"cannot read the password file named by ${semconv.ENV_CLICKHOUSE_PASSWORD_FILE}: {exc}"
            ) from exc
    return None


def connect(
    dsn: str | None = None, database: str | None = None, *, create_database: bool = False, **settings: Any
) -> StoreClient:
    """Open a clickhouse-connect client on ``dsn`` (default: see :func:`default_dsn`).

    ``database`` (else the DSN's) becomes the client's current database; it must exist unless
    ``create_database`` is true. Extra keyword arguments are ClickHouse settings for the session.

    >>> connect("chdb://memory").command("SELECT 2")
    2
    """
    parsed = parse_dsn(dsn if dsn is not None else default_dsn())
    client = _connect_chdb(parsed, settings) if parsed.embedded else _connect_server(parsed, settings)
    target = database or parsed.database
    if target:
        if create_database:
            try:
                client.command(f"CREATE DATABASE IF NOT EXISTS {quote_identifier(target)}")
            except Exception as exc:
                raise StoreError(f"cannot create database {target!r}: {_first_line(exc)}") from exc
        use_database(client, target)
    return client


def _connect_server(parsed: Dsn, settings: dict[str, Any]) -> StoreClient:
    import clickhouse_connect

    password = _password_from_env()
    if password is None:
        password = parsed.password or ""
    try:
        with _quiet_loggers("urllib3", "clickhouse_connect"):
            return clickhouse_connect.get_client(
                dsn=parsed.url,
                username=parsed.username or "default",
                password=password,
                connect_timeout=10,
                settings=settings or None,
            )
    except Exception as exc:
        raise StoreError(f"cannot connect to ClickHouse at {parsed.display()}: {_reason(exc)}") from exc


@contextlib.contextmanager
def _quiet_loggers(*names: str) -> Iterator[None]:
    """Silence driver retry warnings while connecting: the failure is reported once, as StoreError."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _reason(exc: BaseException) -> str:
    """The useful part of a driver error: the OS reason for network failures, else the first line."""
    text = str(exc)
    match = re.search(r"\[Errno -?\d+\] ([^\"')]+)", text)
    if match:
        return match.group(1).strip()
    if "timed out" in text.lower():
        return "timed out"
    return _first_line(exc)


def _connect_chdb(parsed: Dsn, settings: dict[str, Any]) -> StoreClient:
    if parsed.path is not None:
        try:
            Path(parsed.path).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the chDB directory {parsed.path}: {exc}") from exc
    dsn = f"chdb://{parsed.path}" if parsed.path else "chdb://memory"
    global _ENGINE_DSN
    if dsn == _ENGINE_DSN:  # engine already running here: nothing can be locked or printed
        client = _get_chdb_client(dsn, settings)
    else:
        # chDB prints its own lock message on fd 2 while starting; keep it for the diagnosis
        with _captured_stderr() as captured:
            try:
                client = _get_chdb_client(dsn, settings)
            except StoreError as exc:
                raise _diagnose_chdb(parsed, exc.__cause__ or exc, captured.read()) from exc.__cause__
        _ENGINE_DSN = dsn
    return client


def _get_chdb_client(dsn: str, settings: dict[str, Any]) -> StoreClient:
    import clickhouse_connect

    try:
        return clickhouse_connect.get_client(dsn=dsn, settings=settings or None)
    except Exception as exc:
        raise StoreError(str(exc)) from exc


def use_database(client: StoreClient, database: str) -> None:
    """Make ``database`` the client's current database (StoreError when it does not exist)."""
    try:
        exists = client.command(
            "SELECT count() FROM system.databases WHERE name = {d:String}", parameters={"d": database}
        )
    except Exception as exc:
        raise StoreError(f"cannot list databases: {_first_line(exc)}") from exc
    if not int(exists):
        raise StoreError(
            f"database {database!r} does not exist (run `otel-impact schema apply --database {database}`)"
        )
    client.database = database


def _diagnose_chdb(parsed: Dsn, exc: BaseException, engine_message: str) -> StoreError:
    text = f"{exc} {engine_message}"
    where = parsed.display()
    other = re.search(r"already initialized with path '([^']*)'", text)
    if other:
        held = other.group(1)
        held_dsn = "chdb://memory" if held.startswith(":memory:") else f"chdb://{held}"
        return StoreError(
            f"cannot open {where}: this process already runs the embedded engine on {held_dsn} "
            "(chDB allows one engine per process); use that DSN, or a ClickHouse server"
        )
    if parsed.path is not None and ("Cannot lock file" in text or _is_locked(parsed.path)):
        holder = _lock_holder(parsed.path)
        who = f"process {holder}" if holder else "another process"
        return StoreLockedError(f"the embedded store {parsed.path} is in use by {who}; {_LOCK_ADVICE}")
    return StoreError(f"cannot open the embedded store {where}: {_first_line(exc)}")


def _is_locked(path: str) -> bool:
    status = Path(path) / "status"
    try:
        fd = os.open(status, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def _lock_holder(path: str) -> str | None:
    """``"<pid> (<command line>)"`` of the process holding chDB directory ``path``, if findable.

    chDB writes ``PID: n`` into ``<path>/status``; the PID is confirmed by finding the status
    file among that process's open files (``/proc/<pid>/fd``), falling back to a scan of all
    processes when the recorded PID is stale.
    """
    status = os.path.realpath(os.path.join(path, "status"))
    candidates: list[str] = []
    try:
        match = re.search(r"PID:\s*(\d+)", Path(status).read_text(encoding="utf-8", errors="replace"))
        if match:
            candidates.append(match.group(1))
    except OSError:
        pass
    for pid in candidates:
        if _holds(pid, status):
            return _describe(pid)
    with contextlib.suppress(OSError):
        for pid in os.listdir("/proc"):
            if pid.isdigit() and pid not in candidates and pid != str(os.getpid()) and _holds(pid, status):
                return _describe(pid)
    return f"{candidates[0]} (from {status})" if candidates else None


def _holds(pid: str, target: str) -> bool:
    fd_dir = f"/proc/{pid}/fd"
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return False
    for name in names:
        with contextlib.suppress(OSError):
            if os.readlink(f"{fd_dir}/{name}") == target:
                return True
    return False


def _describe(pid: str) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        cmdline = " ".join(raw.split())
    except OSError:
        cmdline = ""
    return f"{pid} ({cmdline[:120]})" if cmdline else pid


class _Captured:
    def __init__(self, file: Any) -> None:
        self._file = file

    def read(self) -> str:
        self._file.seek(0)
        return str(self._file.read().decode(errors="replace"))


@contextlib.contextmanager
def _captured_stderr() -> Iterator[_Captured]:
    """Capture file descriptor 2 while the engine starts: chDB prints its own lock message there."""
    try:
        saved = os.dup(2)
    except OSError:
        with tempfile.TemporaryFile() as dummy:
            yield _Captured(dummy)
        return
    with tempfile.TemporaryFile() as tmp:
        try:
            os.dup2(tmp.fileno(), 2)
            yield _Captured(tmp)
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    text = text.splitlines()[0]
    return text[:400]
