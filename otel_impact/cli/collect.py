"""``otel-impact collect``: run the embedded OTLP receiver until SIGTERM/SIGINT.

On a signal the listeners close, everything already accepted is written, and the process exits
0 — no acknowledged data is lost. Exit 3 if the store cannot be opened (e.g. the embedded
directory is held by another process), 4 if a port cannot be bound.

Listening beyond the loopback interface without a bearer token would accept anyone's data, so
it is refused (exit 2) unless ``--allow-unauthenticated`` is given, and then warned about loudly.

An embedded chDB directory can be open in one process only, so ``--analyze-config impact.yaml
--analyze-every 15m`` runs the analyzer job (:func:`otel_impact.job.run_job`) on a schedule in
this same process, on its own client. A failed run is logged and the next one still happens.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import click

from otel_impact import semconv
from otel_impact.cli.main import handle_errors
from otel_impact.errors import ConfigError

log = logging.getLogger(__name__)


def _token(token_file: str | None) -> str | None:
    if token_file:
        try:
            token = Path(token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"cannot read token file: {exc}", path="--auth-token-file") from exc
        if not token:
            raise ConfigError("token file is empty", path="--auth-token-file")
        return token
    return os.environ.get(semconv.ENV_RECEIVER_AUTH_TOKEN) or None


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas (as ``MALLOC_ARENA_MAX`` would); True when it took effect.

    Each connection thread otherwise gets its own arena (up to 8 per core), and memory freed
    after a large request stays resident in that arena: measured under a gzip flood, the
    receiver's peak RSS halves with two arenas while its byte budget is unchanged.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name or os.environ.get("MALLOC_ARENA_MAX"):
        return False
    try:
        return bool(ctypes.CDLL(name).mallopt(-8, arenas))  # -8 = M_ARENA_MAX (malloc.h)
    except (OSError, AttributeError):  # not glibc
        return False


def _address(value: str) -> str | None:
    return None if value.strip().lower() in ("", "off", "none") else value


def is_loopback(host: str) -> bool:
    """True when ``host`` (a name or an address; '' = all interfaces) reaches this machine only.

    A name counts as loopback when every address it resolves to is a loopback address.
    """
    host = host.strip().strip("[]")
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(
        ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback for info in infos
    )


def exposed_without_token(addresses: dict[str, str | None], token: str | None) -> list[str]:
    """The options (``--http``, ``--grpc``) listening beyond loopback while no token is set."""
    if token:
        return []
    return [
        option
        for option, address in addresses.items()
        if address is not None and not is_loopback(address.rpartition(":")[0])
    ]


class AnalyzerSchedule:
    """Calls ``run`` every ``every`` seconds on a daemon thread until :meth:`stop`.

    The first run starts one interval after :meth:`start` (so data has arrived); a run that
    raises is reported through ``report`` and does not stop the schedule.
    """

    def __init__(self, run: Callable[[], str], every: float, report: Callable[[str], None]) -> None:
        if every <= 0:
            raise ConfigError("must be a positive duration", path="--analyze-every")
        self._run = run
        self._every = every
        self._report = report
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="otel-impact-analyzer", daemon=True)
        self.runs = 0
        self.failures = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop scheduling; wait up to ``timeout`` for a run in progress to finish."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            try:
                summary = self._run()
                self.runs += 1
                self._report(f"analysis run ok: {summary}")
            except Exception as exc:  # keep receiving; the next run may succeed
                self.failures += 1
                log.debug("analysis run failed", exc_info=True)
                self._report(f"analysis run failed: {exc}")


def _analyzer(config_path: str, every: str, dsn: str | None, database: str) -> AnalyzerSchedule:
    from otel_impact.config import load_config, parse_duration
    from otel_impact.job import run_job
    from otel_impact.store import connect

    try:
        seconds = parse_duration(every)
    except ValueError as exc:
        raise ConfigError(str(exc), path="--analyze-every") from exc
    config = load_config(config_path)
    client = connect(dsn, database=database)

    def run() -> str:
        outcome: Any = run_job(client, config)
        return f"run {outcome.run_id}, {outcome.exported_points} point(s), {outcome.alerts} alert(s)"

    return AnalyzerSchedule(run, seconds, lambda msg: click.echo(msg, err=True))


@click.command("collect")
@click.option("--dsn", default=None, help="Store DSN (chdb:///abs/path, chdb://memory, http(s)://…).")
@click.option("--database", default=None, help="Database to write (created with the schema if missing).")
@click.option(
    "--http", "http", default="127.0.0.1:4318", show_default=True, help="OTLP/HTTP host:port or 'off'."
)
@click.option(
    "--grpc", "grpc_", default="127.0.0.1:4317", show_default=True, help="OTLP/gRPC host:port or 'off'."
)
@click.option(
    "--auth-token-file",
    default=None,
    help=f"Require 'Authorization: Bearer <token>' (token read from this file; else ${semconv.ENV_RECEIVER_AUTH_TOKEN}).",
)
@click.option(
    "--tls-cert", default=None, type=click.Path(dir_okay=False), help="PEM certificate (enables TLS)."
)
@click.option(
    "--tls-key", default=None, type=click.Path(dir_okay=False), help="PEM private key for --tls-cert."
)
@click.option("--max-body", default=64, show_default=True, type=click.IntRange(1), help="Body limit in MiB.")
@click.option(
    "--queue-items", default=200_000, show_default=True, type=click.IntRange(1), help="Queue bound."
)
@click.option(
    "--queue-mib",
    default=256,
    show_default=True,
    type=click.IntRange(1),
    help="Queue bound in MiB of requests.",
)
@click.option(
    "--batch-items", default=50_000, show_default=True, type=click.IntRange(1), help="Max items per insert."
)
@click.option(
    "--flush-interval",
    default=0.005,
    show_default=True,
    type=click.FloatRange(0),
    help="Seconds to gather a batch.",
)
@click.option(
    "--max-days-per-request",
    default=100,
    show_default=True,
    type=click.IntRange(1, 100),
    help="Items on more distinct days in one request are rejected (each day is a partition to write).",
)
@click.option(
    "--allow-unauthenticated",
    is_flag=True,
    help="Listen beyond loopback without a bearer token (anyone who can connect may write).",
)
@click.option("--no-create-schema", is_flag=True, help="Do not create missing tables on start.")
@click.option(
    "--analyze-config",
    default=None,
    type=click.Path(dir_okay=False),
    help="Also run the analyzer job with this impact.yaml in this process (one embedded store, one process).",
)
@click.option(
    "--analyze-every", default="15m", show_default=True, help="Interval between analyzer runs (30s, 15m, 1h)."
)
@handle_errors
def command(
    dsn: str | None,
    database: str | None,
    http: str,
    grpc_: str,
    auth_token_file: str | None,
    tls_cert: str | None,
    tls_key: str | None,
    max_body: int,
    queue_items: int,
    queue_mib: int,
    batch_items: int,
    flush_interval: float,
    max_days_per_request: int,
    allow_unauthenticated: bool,
    no_create_schema: bool,
    analyze_config: str | None,
    analyze_every: str,
) -> None:
    """Receive OTLP (HTTP and gRPC) and write the Collector's ClickHouse exporter tables."""
    if (tls_cert is None) != (tls_key is None):
        raise ConfigError("--tls-cert and --tls-key must be given together", path="--tls-cert")
    token = _token(auth_token_file)
    http_address, grpc_address = _address(http), _address(grpc_)
    if http_address is None and grpc_address is None:
        raise ConfigError("both protocols are off; enable --http or --grpc", path="--http")
    exposed = exposed_without_token({"--http": http_address, "--grpc": grpc_address}, token)
    if exposed and not allow_unauthenticated:
        raise ConfigError(
            "listens beyond loopback without a bearer token, so anyone who can connect could write "
            f"telemetry; set --auth-token-file (or ${semconv.ENV_RECEIVER_AUTH_TOKEN}), bind 127.0.0.1, "
            "or pass --allow-unauthenticated",
            path=exposed[0],
        )
    for option in exposed:
        click.echo(
            f"WARNING: {option} listens beyond loopback WITHOUT authentication: anyone who can reach "
            "this port can write telemetry (--allow-unauthenticated)",
            err=True,
        )

    limit_malloc_arenas()
    from otel_impact.receive import Receiver
    from otel_impact.store import apply_schema, connect
    from otel_impact.store.connect import use_database

    client = connect(dsn)
    db = database or client.database or "default"
    if not no_create_schema:
        apply_schema(client, database=db)
    use_database(client, db)
    schedule = _analyzer(analyze_config, analyze_every, dsn, db) if analyze_config else None

    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    receiver = Receiver(
        client,
        http=http_address,
        grpc=grpc_address,
        auth_token=token,
        tls_cert=tls_cert,
        tls_key=tls_key,
        max_body=max_body * 1024 * 1024,
        max_queue_items=queue_items,
        max_queue_bytes=queue_mib * 1024 * 1024,
        max_batch_items=batch_items,
        max_days_per_request=max_days_per_request,
        flush_interval=flush_interval,
    )
    try:
        endpoints = receiver.start()
        shown = ", ".join(
            f"{name} {where}"
            for name, where in (("OTLP/HTTP", endpoints.http), ("OTLP/gRPC", endpoints.grpc))
            if where
        )
        click.echo(
            f"receiving {shown} into database {db!r}" + (" (auth required)" if token else ""), err=True
        )
        if schedule is not None:
            schedule.start()
            click.echo(f"analyzing with {analyze_config} every {analyze_every}", err=True)
        while not stop.wait(1.0):
            pass
        click.echo("stopping: writing everything accepted…", err=True)
    finally:
        if schedule is not None:
            schedule.stop(timeout=60)
        receiver.stop(drain=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    snap = receiver.stats.snapshot()
    click.echo(
        "stopped: "
        + ", ".join(
            f"{s}: {snap['accepted'][s]} written, {snap['refused'][s]} refused" for s in snap["accepted"]
        ),
        err=True,
    )
