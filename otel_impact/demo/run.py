"""``otel-impact demo`` end to end: simulate → OTLP → receiver → chDB → analyzer → report.

:func:`run_demo` runs every phase in one process (the embedded chDB store is locked by the
process that opens it, so the receiver, the store and the analyzer share this one):

1. simulate the world (:mod:`otel_impact.demo.world`, seeded);
2. open the store and give the demo a database of its own (the default database name
   ``otel_impact_demo`` is dropped and recreated on every run, so a previous demo's rows never
   mix in; any other name must be empty or absent);
3. start the embedded OTLP receiver on free loopback ports;
4. replay the world through the instrumentation API with per-service SDK providers and OTLP/HTTP
   exporters (:mod:`otel_impact.demo.emit`), then check every emitted item is stored;
5. write ``impact.yaml`` and run the analyzer job over the simulated window, writing its
   ``impact.*`` results into the store (``export.endpoint: store``: the rows an OTLP export
   through a Collector would write, and a config that still works once the receiver is gone);
6. write ``results.json``, ``report.md`` and ``report.html`` and return the planted vs
   recovered table.

Each phase reports a line through ``progress``. Failures raise the package's own errors.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from otel_impact.demo import report
from otel_impact.demo.emit import EmitCounts, emit_world
from otel_impact.demo.impact_config import config_yaml, demo_config_data, validated_config
from otel_impact.demo.parallel import emit_parallel
from otel_impact.demo.reconcile import Reconciliation, reconcile
from otel_impact.demo.recover import Row, compare, recover
from otel_impact.demo.truth import PlantedTruth
from otel_impact.demo.world import World, WorldParams, simulate
from otel_impact.errors import AnalysisError, ConfigError, OtelImpactError, ReceiverError, StoreError
from otel_impact.records import Result
from otel_impact.store.client import StoreClient

DEFAULT_DATABASE = "otel_impact_demo"
_DB_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class DemoOptions:
    """What ``otel-impact demo`` was asked to do."""

    days: int = 30
    users: int = 20_000
    seed: int = 7
    dsn: str | None = None
    database: str = DEFAULT_DATABASE
    out: Path = Path("demo-out")
    end: datetime | None = None  # end of the simulated period (default: today 00:00 UTC)
    truth: PlantedTruth = field(default_factory=PlantedTruth)
    workers: int = 2  # emitting processes (0 = emit from this process)
    llm: bool = True  # also run the LLM support assistant (demo/llm_demo.py) when its packages are there

    def params(self) -> WorldParams:
        end = self.end or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return WorldParams(
            users=self.users,
            days=self.days,
            seed=self.seed,
            start=end - timedelta(days=self.days),
            truth=self.truth,
        )


@dataclass
class DemoOutcome:
    """Everything the demo produced."""

    params: WorldParams
    counts: EmitCounts
    reconciliation: Reconciliation
    result: Result
    rows: list[Row]
    paths: dict[str, Path]
    notes: list[str]
    timings: dict[str, float]
    llm: list[Any] | None = None  # planted vs recovered of the LLM part (None: not run)

    @property
    def recovered(self) -> int:
        return sum(1 for r in self.rows if r.ok)


def _prepare_database(client: StoreClient, database: str, progress: Progress) -> None:
    """Drop and recreate the demo's own database; refuse to touch a foreign non-empty one."""
    if not _DB_NAME.match(database):
        raise ConfigError(f"not a plain database name: {database!r}", path="--database")
    try:
        tables = client.query(
            "SELECT count() FROM system.tables WHERE database = {db:String}", parameters={"db": database}
        ).result_rows[0][0]
        if database.startswith(DEFAULT_DATABASE):
            client.command("DROP DATABASE IF EXISTS {db:Identifier} SYNC", parameters={"db": database})
            if tables:
                progress(f"database {database}: dropped the previous demo's {tables} tables/views")
        elif tables:
            raise ConfigError(
                f"database {database!r} already holds {tables} tables; the demo needs an empty database "
                f"or one whose name starts with {DEFAULT_DATABASE!r} (which it recreates)",
                path="--database",
            )
        client.command("CREATE DATABASE IF NOT EXISTS {db:Identifier}", parameters={"db": database})
    except OtelImpactError:
        raise
    except Exception as exc:
        raise StoreError(f"cannot prepare database {database!r}: {exc}") from exc


def _open_store(options: DemoOptions, progress: Progress) -> tuple[Any, Any]:
    """(client for the analyzer, client for the receiver's writer), both on the demo database."""
    from otel_impact.store import apply_schema, connect

    admin = connect(options.dsn, database=None)
    _prepare_database(admin, options.database, progress)
    client = connect(options.dsn, database=options.database)
    writer = connect(options.dsn, database=options.database)
    result = apply_schema(client, database=options.database)
    created = len(getattr(result, "created", ()) or ())
    progress(f"store: database {options.database} ready ({created} tables/views created)")
    return client, writer


def _stage_by_stage(failures: list[str], progress: Progress) -> Callable[..., Result]:
    """:func:`otel_impact.pipeline.analyze` that skips (and reports) a failing stage.

    The demo must show everything that works even when one analysis part is broken or missing.
    """
    from otel_impact.pipeline import analyze

    def skipped(message: str) -> None:
        failures.append(message)
        progress(message)

    return functools.partial(analyze, on_stage_error=skipped)


def _analyze(
    client: StoreClient, config: Any, params: WorldParams, options: DemoOptions, progress: Progress
) -> tuple[Result, dict[str, Path], list[str]]:
    """Run the analyzer job (export + reports), stage by stage."""
    from otel_impact.job import run_job

    notes: list[str] = []
    analyze = _stage_by_stage(notes, progress)
    out = options.out
    reports = {"html": out / "report.html", "md": out / "report.md"}
    outcome = run_job(
        client,
        config,
        since=params.start,
        until=params.end,
        now=params.end,
        report_paths=[reports["html"], reports["md"]],
        progress=lambda name: progress(f"analyzer: {name}"),
        seed=options.seed,
        analyze_fn=analyze,
    )
    result = outcome.result
    if not isinstance(result, Result):
        raise AnalysisError("the analyzer job returned no result")
    return result, {k: p for k, p in reports.items() if p.exists()}, notes


def run_demo(options: DemoOptions, *, progress: Progress | None = None) -> DemoOutcome:
    """Run the whole demo; see the module docstring."""
    say: Progress = progress or (lambda _line: None)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    if not _DB_NAME.match(options.database):
        raise ConfigError(f"not a plain database name: {options.database!r}", path="--database")
    out = options.out
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / ".write-test").touch()
        (out / ".write-test").unlink()
    except OSError as exc:
        raise ConfigError(
            f"cannot write to the output directory {out}: {exc.strerror or exc}", path="--out"
        ) from exc
    params = options.params()
    world: World = simulate(params)
    timings["simulate"] = time.perf_counter() - t0
    say(
        f"simulated {params.days} days × {params.users:,} users (seed {params.seed}): "
        f"{world.predictions.n:,} predictions, {world.purchases.n:,} purchases, "
        f"{world.subscriptions.n:,} subscriptions, {len(world.pipeline_runs)} pipeline events"
    )

    t = time.perf_counter()
    client, writer_client = _open_store(options, say)
    timings["store"] = time.perf_counter() - t

    from otel_impact.demo.services import make_services
    from otel_impact.receive import Receiver

    receiver = Receiver(writer_client, http="127.0.0.1:0", grpc=None)
    try:
        endpoints = receiver.start()
    except OtelImpactError:
        raise
    except Exception as exc:
        raise ReceiverError(f"cannot start the embedded receiver: {exc}") from exc
    try:
        endpoint = str(endpoints.http)
        say(f"receiver: OTLP/HTTP on {endpoint}")
        t = time.perf_counter()
        if options.workers > 0:
            say(f"services: {options.workers} worker processes replay the simulated users")
            counts = emit_parallel(params, endpoint, workers=options.workers, progress=say)
        else:
            services = make_services(endpoint, params.truth.sampled_ratio, seed=params.seed)
            try:
                counts = emit_world(world, services, progress=say)
            finally:
                services.shutdown()
        if not receiver.flush(timeout=600):
            raise ReceiverError("the receiver did not finish writing within 10 minutes")
        timings["emit"] = time.perf_counter() - t
        rate = (counts.predictions + counts.events) / max(timings["emit"], 1e-9)
        say(
            f"emitted {counts.predictions:,} predictions ({counts.predictions_recorded:,} spans sampled in) "
            f"and {counts.events:,} events through OTLP in {timings['emit']:.1f} s ({rate:,.0f} items/s)"
        )
        reconciliation = reconcile(
            client,
            counts,
            model=params.truth.model,
            start=params.start,
            end=params.end,
            ratio=params.truth.sampled_ratio,
        )
        for line in reconciliation.lines():
            say(f"  {line}")
        if not reconciliation.ok:
            raise StoreError("stored telemetry does not reconcile with what the services emitted (see above)")

        data = demo_config_data(params, database=options.database, endpoint=None)
        config = validated_config(data)
        config_path = out / "impact.yaml"
        config_path.write_text(
            config_yaml(data, path=str(config_path), database=options.database), encoding="utf-8"
        )
        t = time.perf_counter()
        result, paths, notes = _analyze(client, config, params, options, say)
        receiver.flush(timeout=60)
        timings["analyze"] = time.perf_counter() - t
        llm = None
        if options.llm:
            from otel_impact.demo.llm_demo import run_llm_demo

            t = time.perf_counter()
            llm = run_llm_demo(client, endpoint, params.start, params.days, out, say, seed=params.seed)
            timings["llm"] = time.perf_counter() - t
    finally:
        receiver.stop(drain=True)

    rows = compare(recover(result), params)
    outcome = DemoOutcome(
        params, counts, reconciliation, result, rows, {"config": config_path, **paths}, notes, timings, llm
    )
    timings["total"] = time.perf_counter() - t0
    outcome.paths.update(report.write_outputs(outcome, out))
    say(f"done in {timings['total']:.1f} s: {outcome.recovered}/{len(rows)} planted effects recovered")
    return outcome


def results_document(outcome: DemoOutcome) -> dict[str, Any]:
    """``results.json``: the analysis result plus the demo's planted truth, counts and verdicts."""
    p = outcome.params
    return {
        **outcome.result.to_json(),
        "demo": {
            "params": {
                "users": p.users,
                "days": p.days,
                "seed": p.seed,
                "start": p.start.isoformat(),
                "end": p.end.isoformat(),
            },
            "planted": {k: v for k, v in vars(p.truth).items()},
            "emitted": {k: v for k, v in vars(outcome.counts).items() if k != "per_day"},
            "reconciliation": outcome.reconciliation.to_json(),
            "planted_vs_recovered": [vars(r) | {"ok": r.ok} for r in outcome.rows],
            "notes": outcome.notes,
            "timings_s": {k: round(v, 3) for k, v in outcome.timings.items()},
        },
    }


def dumps(document: dict[str, Any]) -> str:
    from otel_impact.pipeline import to_jsonable

    return json.dumps(to_jsonable(document), indent=2)
