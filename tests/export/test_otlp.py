"""OTLP building and sending: explicit timestamps survive encoding, bounded retries, protocols."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.sdk._logs.export import LogRecordExportResult
from opentelemetry.sdk.metrics.export import MetricExportResult
from otlp_sink import minimal_sink
from results import recorded, recorded_result

from otel_impact import semconv as sc
from otel_impact.config.job import ExportSection
from otel_impact.errors import ExportError
from otel_impact.export.otlp import OtlpResultExporter, build_log_records, build_metrics_data
from otel_impact.export.points import ImpactEvent, ImpactPoint, result_events, result_points, to_ns
from otel_impact.receive import Receiver
from otel_impact.records import Result

T = to_ns("2026-11-05T00:00:00Z")


def test_metrics_data_keeps_each_points_timestamp_and_attributes() -> None:
    points = [
        ImpactPoint(sc.METRIC_IMPACT_LIFT, 0.1, T, {sc.IMPACT_RUN_ID: "r"}),
        ImpactPoint(sc.METRIC_IMPACT_LIFT, 0.2, T - 10**9, {sc.IMPACT_RUN_ID: "r"}),
        ImpactPoint(sc.METRIC_IMPACT_ROI, 5.0, T, {}),
    ]
    req = encode_metrics(build_metrics_data(points, "svc"))
    rm = req.resource_metrics[0]
    assert {kv.key: kv.value.string_value for kv in rm.resource.attributes}[sc.SERVICE_NAME] == "svc"
    scope = rm.scope_metrics[0]
    assert scope.scope.name == sc.ANALYZER_SCOPE
    metrics = {m.name: m for m in scope.metrics}
    assert set(metrics) == {sc.METRIC_IMPACT_LIFT, sc.METRIC_IMPACT_ROI}
    assert metrics[sc.METRIC_IMPACT_ROI].unit == "%"
    lift = metrics[sc.METRIC_IMPACT_LIFT].gauge.data_points
    assert [(dp.time_unix_nano, dp.as_double) for dp in lift] == [(T, 0.1), (T - 10**9, 0.2)]


def test_log_records_carry_event_name_timestamp_and_severity() -> None:
    events = [ImpactEvent(sc.EVENT_IMPACT_ALERT, T, "broke", "ERROR", {sc.IMPACT_ALERT_RULE: "x"})]
    req = encode_logs(build_log_records(events, "svc"))
    rec = req.resource_logs[0].scope_logs[0].log_records[0]
    assert rec.event_name == sc.EVENT_IMPACT_ALERT
    assert rec.time_unix_nano == T
    assert rec.severity_text == "ERROR" and rec.severity_number == 17
    assert rec.body.string_value == "broke"


class FlakyExporter:
    def __init__(self, fails: int, ok: Any) -> None:
        self.fails, self.ok, self.calls = fails, ok, 0

    def export(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls <= self.fails:
            return object()  # anything but SUCCESS
        return self.ok

    def shutdown(self) -> None:
        pass


def make(retries: int, metric_fails: int, log_fails: int = 0) -> tuple[OtlpResultExporter, list[float]]:
    sleeps: list[float] = []
    exp = OtlpResultExporter(ExportSection(retries=retries, retry_backoff=0.5), sleep=sleeps.append)
    exp._metric_exporter = FlakyExporter(metric_fails, MetricExportResult.SUCCESS)
    exp._log_exporter = FlakyExporter(log_fails, LogRecordExportResult.SUCCESS)
    return exp, sleeps


def test_bounded_retry_with_exponential_backoff_then_success() -> None:
    exp, sleeps = make(retries=3, metric_fails=2, log_fails=1)
    doc = recorded()
    result = Result.from_json(doc)
    pts = result_points(result, run_id="r")
    summary = exp.export(pts, result_events(result, run_id="r"))
    assert summary.points == len(pts) and summary.events == len(doc["alerts"]) + len(doc["incidents"])
    assert summary.attempts == 3 + 2
    assert sleeps == [0.5, 1.0, 0.5]


def test_persistent_failure_raises_export_error_after_retries() -> None:
    exp, sleeps = make(retries=2, metric_fails=99)
    with pytest.raises(ExportError, match="failed after 3 attempt"):
        exp.export([ImpactPoint(sc.METRIC_IMPACT_ROI, 1.0, T)], [])
    assert exp._metric_exporter.calls == 3 and len(sleeps) == 2


def test_protocol_and_endpoint_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    assert OtlpResultExporter(ExportSection()).protocol == "grpc"
    assert OtlpResultExporter(ExportSection(protocol="http/protobuf")).protocol == "http/protobuf"
    http = OtlpResultExporter(ExportSection(endpoint="http://h:4318/"), protocol="http/protobuf")
    assert (http.metrics_endpoint, http.logs_endpoint) == (
        "http://h:4318/v1/metrics",
        "http://h:4318/v1/logs",
    )
    with pytest.raises(ExportError, match="unsupported OTLP protocol"):
        OtlpResultExporter(ExportSection(), protocol="thrift")


def test_endpoint_from_standard_environment(monkeypatch: pytest.MonkeyPatch, store: Any) -> None:
    with Receiver(http="127.0.0.1:0", grpc=None, sink=minimal_sink(store)) as rx:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rx.endpoints.http)
        monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
        exp = OtlpResultExporter(ExportSection(timeout=30.0, retries=0))
        exp.export([ImpactPoint(sc.METRIC_IMPACT_ROI, 7.0, T, {sc.IMPACT_RUN_ID: "env"})], [])
        exp.shutdown()
        rx.flush()
    rows = store.query(
        "SELECT MetricName, Value, toUnixTimestamp(TimeUnix) FROM otel_metrics_gauge"
    ).result_rows
    assert rows == [(sc.METRIC_IMPACT_ROI, 7.0, T // 10**9)]


def test_grpc_export_reaches_the_receiver(store: Any) -> None:
    with Receiver(http=None, grpc="127.0.0.1:0", sink=minimal_sink(store)) as rx:
        exp = OtlpResultExporter(ExportSection(endpoint=None, protocol="grpc", timeout=30.0, retries=0),
                                 endpoint=f"http://{rx.endpoints.grpc}")  # fmt: skip
        result = recorded_result()
        summary = exp.export(result_points(result, run_id="g"), result_events(result, run_id="g"))
        exp.shutdown()
        rx.flush()
    got = store.query("SELECT count() FROM otel_metrics_gauge").result_rows[0][0]
    assert got == summary.points > 0
    assert store.query("SELECT count() FROM otel_logs").result_rows[0][0] == summary.events == 12
