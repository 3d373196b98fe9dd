"""``otel-impact analyze --config impact.yaml [--dsn ...] [--database ...] [--since ISO --until ISO] [--json out.json]``.

Runs the analysis stages (:func:`otel_impact.pipeline.analyze`) over one window and prints a
short summary; ``--json`` writes the whole result document. Without ``--until`` the window ends
now; without ``--since`` it starts ``--days`` (default 30) before its end.

The run goes through :func:`otel_impact.job.run_job` (lock, watermark, OTLP export, reports):
with none of ``--since``/``--until``/``--days`` it analyses incrementally from the job's
watermark. ``--report`` (repeatable, ``.html``/``.md``), ``--fail-on-alert`` (exit 8),
``--no-export``, ``--export-endpoint`` (``store`` or an OTLP URL), ``--export-protocol``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from otel_impact.cli.main import handle_errors
from otel_impact.cli.options import parse_window, store_options, window_options

if TYPE_CHECKING:
    from otel_impact.records import Result


def _summary(result: Result) -> list[str]:
    from otel_impact.context import iso_utc
    from otel_impact.report.base import fmt_num

    lines = [f"window {iso_utc(result.window.start)} .. {iso_utc(result.window.end)}"]
    for row in result.stitching:
        lines.append(
            f"  {row.business_metric:<20} outcomes {row.outcomes:>9}  attributed "
            f"{row.attributed_outcomes:>9}  unattributed {row.unattributed_outcomes:>9}  "
            f"value {fmt_num(row.value_total)}"
        )
    return lines


@click.command("analyze")
@store_options
@window_options
@click.option(
    "--days",
    default=None,
    type=float,
    help="Window length when --since is not given (default 30 with --until; with no window options the "
    "job runs incrementally from its watermark).",
)
@click.option("--seed", default=0, show_default=True, help="Seed for any randomised step.")
@click.option(
    "--json",
    "json_path",
    default=None,
    type=click.Path(dir_okay=False),
    help="Write the result JSON here ('-' = stdout).",
)
@click.option(
    "--report",
    "reports",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Write a report (.html self-contained, or .md); repeatable.",
)
@click.option("--fail-on-alert", is_flag=True, help="Exit 8 when alerts fired (after exporting).")
@click.option(
    "--no-export",
    is_flag=True,
    help="Do not export the impact.* results (the job's watermark then stays where it was).",
)
@click.option(
    "--export-endpoint",
    default=None,
    help="'store' (write results into the store) or an OTLP endpoint URL "
    "(default: config export.endpoint, else OTEL_EXPORTER_OTLP_*, else the store).",
)
@click.option(
    "--export-protocol", type=click.Choice(["http/protobuf", "grpc"]), default=None, help="OTLP protocol."
)
@handle_errors
def command(
    config_path: str,
    dsn: str | None,
    database: str | None,
    since: str | None,
    until: str | None,
    days: float | None,
    seed: int,
    json_path: str | None,
    reports: tuple[str, ...],
    fail_on_alert: bool,
    no_export: bool,
    export_endpoint: str | None,
    export_protocol: str | None,
) -> None:
    """Stitch outcomes to predictions, attribute them, and run the analysis stages over a window."""
    import time

    from otel_impact.config import load_config
    from otel_impact.errors import ConfigError
    from otel_impact.job import run_job
    from otel_impact.report.summary import summary_lines, warning_lines
    from otel_impact.store import connect

    for report in reports:  # refused before anything runs, not after the analysis
        if Path(report).suffix.lower() not in (".html", ".htm", ".md", ".markdown"):
            raise ConfigError(f"report {report} must end in .html or .md", path="--report")
    cfg = load_config(config_path)
    explicit = since is not None or until is not None or days is not None
    window = parse_window(since, until, 30.0 if days is None else days) if explicit else None
    client = connect(dsn, database=database or cfg.database)
    export: Any = not no_export
    if export and (export_endpoint or export_protocol):
        from otel_impact.export.otlp import OtlpResultExporter
        from otel_impact.export.store import StoreResultExporter, destination

        if export_endpoint == "store" or (export_endpoint is None and destination(cfg.export) == "store"):
            export = StoreResultExporter(client, cfg.export)
        else:
            export = OtlpResultExporter(cfg.export, endpoint=export_endpoint, protocol=export_protocol)
    t0 = time.monotonic()
    outcome = run_job(
        client,
        cfg,
        since=window.start if window else None,
        until=window.end if window else None,
        export=export,
        report_paths=list(reports),
        fail_on_alert=fail_on_alert,
        seed=seed,
        progress=lambda msg: click.echo(f"[{time.monotonic() - t0:6.1f}s] {msg}", err=True),
    )
    result = outcome.result
    text = json.dumps(result.to_json(), indent=2, sort_keys=False)
    if json_path == "-":
        sys.stdout.write(text + "\n")
        if outcome.exit_code:
            sys.exit(outcome.exit_code)
        return
    if json_path:
        Path(json_path).write_text(text + "\n", encoding="utf-8")
    for line in _summary(result) + summary_lines(result)[1:]:
        click.echo(line)
    for line in warning_lines(result):
        click.echo(line, err=True)
    if no_export or not cfg.export.enabled:
        click.echo(f"run {outcome.run_id}: results not exported; the job's watermark was not advanced")
    else:
        click.echo(
            f"run {outcome.run_id}: exported {outcome.exported_points} point(s), "
            f"{outcome.exported_events} event(s); watermark {outcome.watermark:%Y-%m-%dT%H:%M:%SZ}"
            if outcome.watermark
            else f"run {outcome.run_id}"
        )
    if outcome.exit_code:
        sys.exit(outcome.exit_code)
