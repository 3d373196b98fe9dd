"""Write ``impact.*`` results straight into the store: ``export.endpoint: store``.

An analyzer on one machine with an embedded store often has no Collector to export to (the
embedded receiver cannot run beside it: a chDB directory belongs to one process). This
destination builds exactly the OTLP requests the OTLP exporters would send — the same
``MetricsData`` / log records (:mod:`otel_impact.export.otlp`), encoded by the OTLP exporters'
own encoders — and hands them to the writers the embedded receiver uses
(:func:`otel_impact.store.writers.write_metrics` / ``write_logs``). So the rows in
``otel_metrics_gauge`` / ``otel_logs`` are the ones a Collector (or ``otel-impact collect``) would
have written from the OTLP export, and the dashboards, digests and deduplicated views read them
the same way.

It is the destination when no OTLP endpoint is configured (neither ``export.endpoint`` nor an
``OTEL_EXPORTER_OTLP_*ENDPOINT`` variable): see :func:`destination`.

>>> from otel_impact.config.job import ExportSection
>>> destination(ExportSection(endpoint="store"), environ={})
'store'
>>> destination(ExportSection(), environ={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
'otlp'
>>> destination(ExportSection(), environ={})
'store'
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from otel_impact.config.job import STORE_ENDPOINT, ExportSection
from otel_impact.errors import ExportError, StoreError
from otel_impact.export.otlp import EXPORT_BATCH, ExportSummary, build_log_records, build_metrics_data
from otel_impact.export.points import ImpactEvent, ImpactPoint
from otel_impact.store.client import StoreClient

# the standard variables that name an OTLP endpoint for the signals the results use
_ENDPOINT_VARIABLES = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
)


def destination(settings: ExportSection, environ: Mapping[str, str] | None = None) -> str:
    """``'store'`` or ``'otlp'``: where results go under ``settings``.

    ``export.endpoint: store`` → the store; any other ``export.endpoint`` → OTLP; unset → OTLP
    when one of ``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``_METRICS_ENDPOINT`` / ``_LOGS_ENDPOINT`` is
    set, else the store.
    """
    env = os.environ if environ is None else environ
    if settings.endpoint == STORE_ENDPOINT:
        return "store"
    if settings.endpoint:
        return "otlp"
    return "otlp" if any(env.get(name) for name in _ENDPOINT_VARIABLES) else "store"


class StoreResultExporter:
    """Writes result points/events into the client's exporter-layout tables.

    A write that fails raises :class:`ExportError` (exit 6): the job then keeps its watermark,
    exactly as for a failed OTLP export.
    """

    endpoint = STORE_ENDPOINT

    def __init__(self, client: StoreClient, settings: ExportSection | None = None) -> None:
        self.client = client
        self.settings = settings or ExportSection()

    def export(self, points: Sequence[ImpactPoint], events: Sequence[ImpactEvent]) -> ExportSummary:
        """Write everything, in the batches the OTLP exporter would send."""
        from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
        from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics

        from otel_impact.store.writers import write_logs, write_metrics

        service = self.settings.service_name
        batches = 0
        try:
            for i in range(0, len(points), EXPORT_BATCH):
                write_metrics(
                    self.client, [encode_metrics(build_metrics_data(points[i : i + EXPORT_BATCH], service))]
                )
                batches += 1
            for i in range(0, len(events), EXPORT_BATCH):
                write_logs(
                    self.client, [encode_logs(build_log_records(events[i : i + EXPORT_BATCH], service))]
                )
                batches += 1
        except StoreError as exc:
            raise ExportError(
                f"writing the impact.* results into the store failed: {exc}; the job's watermark was "
                "not advanced, the next run will write this window again"
            ) from exc
        return ExportSummary(len(points), len(events), batches, STORE_ENDPOINT)

    def shutdown(self) -> None:
        """Nothing to release: the client belongs to the caller."""


__all__ = ["StoreResultExporter", "destination"]
