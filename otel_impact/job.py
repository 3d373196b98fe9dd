"""The production analyzer job: incremental, idempotent, locked, exported.

``run_job`` is what cron (or ``otel-impact analyze``) calls:

1. **Lock** (:mod:`otel_impact.joblock`): one holder per job; anyone else gets
   :class:`LockedError` (exit 7) naming the holder. The lock is renewed between stages while the
   run is alive; a killed run's claim is taken over ``job.lock_ttl`` after its last renewal.
2. **Window.** Without ``since``/``until`` the window runs from the watermark (window end of the
   last run whose results were exported, kept in ``impact_job_state``) minus ``job.lookback`` (late data is
   re-analysed) to now; the first run covers ``job.first_run``.
3. **Analyse** (:func:`otel_impact.pipeline.analyze`), then the evaluation matrix.
4. **Reports** (``.html`` / ``.md`` paths), then **export** — into the store itself
   (``export.endpoint: store``, the default without an OTLP endpoint) or over OTLP: every point
   carries ``impact.run.id`` and the window; the views ``impact_metrics_latest`` /
   ``impact_events_latest`` keep one row per point from the latest run, so re-running a window
   never shows duplicates.
5. Only after the export succeeded is the run recorded with its new watermark. An export that
   still fails after retries raises :class:`ExportError` (exit 6) and leaves the watermark where
   it was, so the next run re-covers the window. A run that exports nothing (``--no-export``,
   ``export.enabled: false``) is logged as ``not_exported`` and does not move the watermark
   either: the watermark marks what has been *exported*, so a later exporting run still covers
   the period.

>>> from otel_impact.config import config_from_dict
>>> from datetime import UTC, datetime
>>> plan_window(config_from_dict({"job": {"lookback": "1h"}}), None, None,
...             datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 1, 12, tzinfo=UTC)).to_json()
{'start': '2026-11-01T11:00:00Z', 'end': '2026-11-02T00:00:00Z'}
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from otel_impact import semconv as sc
from otel_impact.config.base import check_bucket_count
from otel_impact.config.model import ImpactConfig
from otel_impact.config.sqlsource import READ_ONLY_SETTINGS, source_sql
from otel_impact.context import Window, iso_utc
from otel_impact.errors import EXIT_ALERTS, ConfigError, ExportError
from otel_impact.joblock import JobLock
from otel_impact.records import Result, RunInfo
from otel_impact.store.client import StoreClient, query_text, rows
from otel_impact.store.incidents import incident_annotations, write_annotations
from otel_impact.store.jobstate import RunRecord, read_watermark, record_run, require_tables

log = logging.getLogger(__name__)
Progress = Callable[[str], None]


class ResultExporter(Protocol):
    """What ``run_job`` needs from an exporter (see :class:`otel_impact.export.otlp.OtlpResultExporter`)."""

    def export(self, points: Sequence[Any], events: Sequence[Any]) -> Any: ...

    def shutdown(self) -> None: ...


@dataclass(frozen=True)
class JobOutcome:
    """What one run did. ``exit_code`` is 0, or 8 when alerts fired and ``fail_on_alert`` was set."""

    run_id: str
    window: Window
    result: Result
    previous_watermark: datetime | None
    watermark: datetime | None
    exported_points: int = 0
    exported_events: int = 0
    alerts: int = 0
    reports: tuple[Path, ...] = field(default_factory=tuple)
    exit_code: int = 0


class StageClock:
    """Times the analysis stages from the pipeline's progress ticks (each tick starts a stage and
    ends the one before; :meth:`stop` ends the last) and says each stage's start."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self._say = say
        self._marks: list[tuple[str, float]] = []

    def start(self, stage: str) -> None:
        self._marks.append((stage, time.perf_counter()))
        self._say(f"stage {stage}")

    def stop(self) -> dict[str, float]:
        """Seconds per stage, in run order (a stage named twice adds up)."""
        if not self._marks:
            return {}
        ends = [t for _, t in self._marks[1:]] + [time.perf_counter()]
        out: dict[str, float] = {}
        for (stage, began), ended in zip(self._marks, ends, strict=True):
            out[stage] = round(out.get(stage, 0.0) + ended - began, 4)
        self._say("stage times: " + ", ".join(f"{k} {v:.2f} s" for k, v in out.items()))
        return out


def new_run_id(at: datetime | None = None) -> str:
    """A run id that sorts by start time (``20261122T060500.123456Z-1a2b3c4d``)."""
    at = at or datetime.now(UTC)
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ") + "-" + uuid.uuid4().hex[:8]


def plan_window(
    config: ImpactConfig,
    since: datetime | None,
    until: datetime | None,
    now: datetime,
    watermark: datetime | None,
) -> Window:
    """The window to analyse: explicit bounds win; else watermark − lookback (or first_run) .. now."""
    end = until or now
    if since is not None:
        start = since
        if start >= end:
            raise ConfigError(
                f"window start {iso_utc(start)} is not before its end {iso_utc(end)}", "--since"
            )
    elif watermark is not None:
        start = min(watermark - timedelta(seconds=config.job.lookback), end - timedelta(seconds=60))
    else:
        start = end - timedelta(seconds=config.job.first_run)
    return Window(start, end)


def _record_failure(
    client: StoreClient,
    job: str,
    run_id: str,
    exc: BaseException,
    window: Window | None,
    previous: datetime | None,
    started: datetime,
) -> None:
    """Log a failed run (``export_failed`` / ``failed``) without advancing the watermark; best effort."""
    status = "export_failed" if isinstance(exc, ExportError) else "failed"
    if window is None:
        return  # failed before a window existed (e.g. reading the watermark): nothing to log against
    try:
        record_run(
            client,
            RunRecord(
                job, run_id, status, window.start, previous, started, message=f"{type(exc).__name__}: {exc}"
            ),
        )
    except Exception as log_exc:  # the original error matters more than the log row
        log.warning("could not record the failed run %s: %s", run_id, log_exc)


def _offline_values(client: StoreClient, config: ImpactConfig) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for i, feature in enumerate(config.evaluation.features):
        if feature.offline.sql is None:
            continue
        path = f"evaluation.features[{i}].offline.sql"
        sql = "SELECT * FROM (" + source_sql(feature.offline.sql, path) + ")"
        found = rows(query_text(client, sql, doing=path, settings=READ_ONLY_SETTINGS))
        out[feature.name] = float(found[0][0]) if found and found[0] and found[0][0] is not None else None
    return out


def write_reports(result: Result, paths: Sequence[str | Path]) -> tuple[Path, ...]:
    """Write each report by its suffix (``.html`` / ``.md``); other suffixes are config errors."""
    from otel_impact.report.html import render_html
    from otel_impact.report.markdown import render_markdown

    written = []
    for raw in paths:
        path = Path(raw)
        suffix = path.suffix.lower()
        if suffix in (".html", ".htm"):
            text = render_html(result)
        elif suffix in (".md", ".markdown"):
            text = render_markdown(result)
        else:
            raise ConfigError(f"report {path} must end in .html or .md", path="--report")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return tuple(written)


def run_job(
    client: StoreClient,
    config: ImpactConfig,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime | None = None,
    export: bool | ResultExporter = True,
    report_paths: Sequence[str | Path] = (),
    fail_on_alert: bool = False,
    progress: Progress | None = None,
    seed: int = 0,
    analyze_fn: Callable[..., Result] | None = None,
) -> JobOutcome:
    """Run one locked, incremental analysis + export (see the module docstring).

    ``now`` (default: the wall clock) ends an incremental window; lock expiry always uses the wall
    clock. ``export``: True = per the ``export`` config section (the store, or OTLP), False = skip
    (the watermark then stays put), or an exporter object.
    ``analyze_fn`` defaults to :func:`otel_impact.pipeline.analyze` (same signature).
    """
    from otel_impact.evaluation import evaluate
    from otel_impact.export.points import result_events, result_points

    report = progress or (lambda _msg: None)

    def say(msg: str) -> None:
        lock.renew_if_due()  # the heartbeat: every progress tick renews the lock when due
        report(msg)

    started = datetime.now(UTC)
    run_id = new_run_id(started)
    job = config.job.name
    require_tables(client, sc.TABLE_JOB_STATE, sc.TABLE_JOB_LOCK)
    lock = JobLock(client, job, config.job.lock_ttl)
    lock.acquire()
    previous: datetime | None = None
    planned: Window | None = None
    try:
        previous = read_watermark(client, job)
        window = plan_window(config, since, until, now or started, previous)
        planned = window
        too_many = check_bucket_count(
            (window.end - window.start).total_seconds(), config.series.bucket, "the window"
        )
        if too_many:  # bounds the run's memory before any stage allocates per-bucket arrays
            raise ConfigError(too_many, path="series.bucket")
        say(f"run {run_id}: window {iso_utc(window.start)} .. {iso_utc(window.end)}")
        if analyze_fn is None:
            from otel_impact.pipeline import analyze

            analyze_fn = analyze
        clock = StageClock(say)
        result = analyze_fn(client, config, window, seed=seed, progress=clock.start)
        run = RunInfo(
            id=run_id, job=job, started=started, previous_watermark=previous, stage_seconds=clock.stop()
        )
        updates: dict[str, Any] = {"run": run}
        if config.evaluation.features:
            updates["evaluation"] = evaluate(
                config.evaluation.features, result, _offline_values(client, config)
            )
        result = result.model_copy(update=updates)
        alerts = len(result.firing_alerts())
        reports = write_reports(result, report_paths) if report_paths else ()
        for path in reports:
            say(f"report {path}")
        points = result_points(result, run_id=run_id)
        events = result_events(result, run_id=run_id)
        exporter = _exporter(client, config, export)
        lock.check()  # never publish a run whose lock lapsed
        if exporter is not None:
            say(f"export {len(points)} point(s), {len(events)} event(s)")
            try:
                exporter.export(points, events)
            finally:
                exporter.shutdown()
        exported = exporter is not None
        if exported:
            # Annotations for the dashboards (deduplicated there by latest run id), written only
            # once the export succeeded so a failed or unexported run never shows.
            annotations = write_annotations(client, incident_annotations(result, run_id))
            if annotations:
                say(f"annotations: {annotations} row(s)")
        else:
            say("results not exported: the export watermark stays where it was")
        # the watermark marks exported results: a run that exported nothing leaves it alone
        watermark = (max(previous, window.end) if previous else window.end) if exported else previous
        record_run(
            client,
            RunRecord(
                job,
                run_id,
                "ok" if exported else "not_exported",
                window.start,
                watermark if exported else window.end,
                started,
                len(points) if exported else 0,
                len(events) if exported else 0,
                alerts,
            ),
        )
    except Exception as exc:
        _record_failure(client, job, run_id, exc, planned, previous, started)
        raise
    finally:
        lock.release()
    return JobOutcome(
        run_id=run_id,
        window=window,
        result=result,
        previous_watermark=previous,
        watermark=watermark,
        exported_points=len(points) if exported else 0,
        exported_events=len(events) if exported else 0,
        alerts=alerts,
        reports=reports,
        exit_code=EXIT_ALERTS if (fail_on_alert and alerts) else 0,
    )


def _exporter(
    client: StoreClient, config: ImpactConfig, export: bool | ResultExporter
) -> ResultExporter | None:
    """The exporter for this run: ``export.endpoint: store`` (the default without an OTLP endpoint)
    writes into ``client``'s store, an OTLP endpoint exports over OTLP."""
    if export is False or (export is True and not config.export.enabled):
        return None
    if export is True:
        from otel_impact.export.store import StoreResultExporter, destination

        if destination(config.export) == "store":
            return StoreResultExporter(client, config.export)
        from otel_impact.export.otlp import OtlpResultExporter

        return OtlpResultExporter(config.export)
    return export


__all__ = [
    "JobLock",
    "JobOutcome",
    "ResultExporter",
    "new_run_id",
    "plan_window",
    "read_watermark",
    "run_job",
]
