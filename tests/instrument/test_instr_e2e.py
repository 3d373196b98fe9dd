"""End to end: ``opentelemetry-instrument python examples/sklearn_service.py`` → OTLP/HTTP.

A minimal OTLP/HTTP server in the test (http.server + opentelemetry-proto) receives what the
unmodified example exports, so this test does not depend on the product's receiver.
"""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from otel_impact import semconv

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "sklearn_service.py"
INSTRUMENT = Path(sys.executable).parent / "opentelemetry-instrument"

_SERVICES = {
    "/v1/traces": (trace_service_pb2.ExportTraceServiceRequest, trace_service_pb2.ExportTraceServiceResponse),
    "/v1/metrics": (
        metrics_service_pb2.ExportMetricsServiceRequest,
        metrics_service_pb2.ExportMetricsServiceResponse,
    ),
    "/v1/logs": (logs_service_pb2.ExportLogsServiceRequest, logs_service_pb2.ExportLogsServiceResponse),
}


class _Handler(BaseHTTPRequestHandler):
    received: dict[str, list[Any]]

    def do_POST(self) -> None:
        request_type, response_type = _SERVICES.get(self.path, (None, None))
        if request_type is None or response_type is None:
            self.send_response(404)
            self.end_headers()
            return
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        message = request_type()
        message.ParseFromString(body)
        self.server.received[self.path].append(message)  # type: ignore[attr-defined]
        payload = response_type().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def otlp_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.received = {path: [] for path in _SERVICES}  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _value(v: AnyValue) -> Any:
    kind = v.WhichOneof("value")
    return getattr(v, kind) if kind else None


def _attrs(kvs: Any) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in kvs}


def _run(server: ThreadingHTTPServer, requests: int, **extra_env: str) -> tuple[str, dict[str, list[Any]]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PYTHONPATH"))}
    env.update(
        OTEL_SERVICE_NAME="shop-ranker",
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{server.server_address[1]}",
        OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
        OTEL_METRIC_EXPORT_INTERVAL="60000",
        OTEL_BSP_SCHEDULE_DELAY="200",
        OTEL_IMPACT_MODEL_VERSION="v1",
        **extra_env,
    )
    proc = subprocess.run(
        [str(INSTRUMENT), sys.executable, str(EXAMPLE), "--requests", str(requests)],
        env=env, capture_output=True, text=True, timeout=120, cwd=REPO,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout, server.received  # type: ignore[attr-defined]


def _spans(received: dict[str, list[Any]]) -> list[tuple[dict[str, Any], Any]]:
    out = []
    for req in received["/v1/traces"]:
        for rs in req.resource_spans:
            resource = _attrs(rs.resource.attributes)
            for ss in rs.scope_spans:
                out.extend((resource, span) for span in ss.spans)
    return out


def _log_records(received: dict[str, list[Any]]) -> list[Any]:
    return [
        rec
        for req in received["/v1/logs"]
        for rl in req.resource_logs
        for sl in rl.scope_logs
        for rec in sl.log_records
    ]


def _metrics(received: dict[str, list[Any]]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for req in received["/v1/metrics"]:
        for rm in req.resource_metrics:
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    out.setdefault(metric.name, []).append(metric)
    return out


def test_auto_instrumented_service_exports_predictions_metrics_and_events(
    otlp_server: ThreadingHTTPServer,
) -> None:
    requests = 300
    stdout, received = _run(otlp_server, requests)
    purchases = int(re.search(r"(\d+) purchases", stdout).group(1))  # type: ignore[union-attr]

    spans = [(r, s) for r, s in _spans(received) if s.name == "predict LogisticRegression"]
    assert len(spans) == requests + 1  # single-row calls + one batch call
    resource, first = spans[0]
    assert resource[semconv.SERVICE_NAME] == "shop-ranker"
    attrs = _attrs(first.attributes)
    assert attrs[semconv.ML_MODEL_NAME] == "LogisticRegression"
    assert attrs[semconv.ML_MODEL_VERSION] == "v1"
    assert re.fullmatch(r"[0-9a-f]{32}", attrs[semconv.ML_PREDICTION_ID])
    assert 0.0 <= attrs[semconv.ML_PREDICTION_SCORE] <= 1.0
    assert attrs[semconv.ML_PREDICTION_LABEL] in {"0", "1"}
    batch = [_attrs(s.attributes) for _, s in spans if semconv.ML_PREDICTION_COUNT in _attrs(s.attributes)]
    assert [b[semconv.ML_PREDICTION_COUNT] for b in batch] == [25]
    assert len({_attrs(s.attributes)[semconv.ML_PREDICTION_ID] for _, s in spans}) == requests + 1

    metrics = _metrics(received)
    final_count = metrics[semconv.METRIC_PREDICTIONS][-1].sum.data_points
    assert [dp.as_int for dp in final_count] == [requests + 25]
    [count_point] = final_count
    assert _attrs(count_point.attributes) == {
        semconv.ML_MODEL_NAME: "LogisticRegression",
        semconv.ML_MODEL_VERSION: "v1",
    }
    [score_hist] = metrics[semconv.METRIC_PREDICTION_SCORE][-1].histogram.data_points
    assert score_hist.count == requests
    [latency] = metrics[semconv.METRIC_PREDICTION_DURATION][-1].histogram.data_points
    assert latency.count == requests + 1 and 0 < latency.sum < 60

    events = [r for r in _log_records(received) if r.event_name == "business.purchase"]
    assert purchases > 0 and len(events) == purchases
    ev = _attrs(events[0].attributes)
    assert ev[semconv.BUSINESS_CURRENCY] == "EUR"
    assert 10.0 <= ev[semconv.BUSINESS_VALUE] <= 50.0
    assert ev[semconv.USER_ID].startswith("u")


def test_disabled_instrumentation_is_honoured(otlp_server: ThreadingHTTPServer) -> None:
    stdout, received = _run(otlp_server, 20, OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="otel_impact")
    purchases = int(re.search(r"(\d+) purchases", stdout).group(1))  # type: ignore[union-attr]
    assert not [s for _, s in _spans(received) if s.name.startswith("predict ")]
    assert semconv.METRIC_PREDICTIONS not in _metrics(received)
    # the SDK is still configured: the app's explicit business events arrive
    assert len([r for r in _log_records(received) if r.event_name == "business.purchase"]) == purchases
