"""Test helper: an embedded OTLP receiver writing into the test database.

Uses the store's exporter-layout writers when they exist (the real path); otherwise a minimal
sink in this file writes gauge points and log records into ``otel_metrics_gauge`` / ``otel_logs``
with the Collector's column mapping, so the job's end-to-end tests run either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from otel_impact.receive import Receiver, Signal


def _any(value: Any) -> str:
    kind = value.WhichOneof("value")
    if kind is None:
        return ""
    v = getattr(value, kind)
    if kind == "bool_value":
        return "true" if v else "false"
    return str(v)


def _attrs(kvs: Any) -> dict[str, str]:
    return {kv.key: _any(kv.value) for kv in kvs}


def _ts(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / 1e9, UTC).replace(tzinfo=None)


def minimal_sink(client: Any) -> Any:
    def sink(signal: Signal, requests: Sequence[Any]) -> int:
        rows: list[list[Any]] = []
        if signal == Signal.METRICS:
            for req in requests:
                for rm in req.resource_metrics:
                    res = _attrs(rm.resource.attributes)
                    for sm in rm.scope_metrics:
                        for m in sm.metrics:
                            for dp in m.gauge.data_points:
                                rows.append([res, res.get("service.name", ""), sm.scope.name, m.name, m.unit,
                                             _attrs(dp.attributes), _ts(dp.start_time_unix_nano),
                                             _ts(dp.time_unix_nano), dp.as_double])  # fmt: skip
            cols = ["ResourceAttributes", "ServiceName", "ScopeName", "MetricName", "MetricUnit", "Attributes",
                    "StartTimeUnix", "TimeUnix", "Value"]  # fmt: skip
            table = "otel_metrics_gauge"
        elif signal == Signal.LOGS:
            for req in requests:
                for rl in req.resource_logs:
                    res = _attrs(rl.resource.attributes)
                    for sl in rl.scope_logs:
                        for r in sl.log_records:
                            rows.append([_ts(r.time_unix_nano), r.severity_text, r.severity_number,
                                         res.get("service.name", ""), _any(r.body), res, sl.scope.name,
                                         _attrs(r.attributes), r.event_name])  # fmt: skip
            cols = ["Timestamp", "SeverityText", "SeverityNumber", "ServiceName", "Body", "ResourceAttributes",
                    "ScopeName", "LogAttributes", "EventName"]  # fmt: skip
            table = "otel_logs"
        else:
            return 0
        if rows:
            client.insert(table, rows, column_names=cols)
        return len(rows)

    return sink


def receiver(client: Any) -> Receiver:
    """A receiver on a free local HTTP port writing into ``client``'s database."""
    try:
        from otel_impact.store import write_logs, write_metrics  # noqa: F401

        return Receiver(client, http="127.0.0.1:0", grpc=None)
    except ImportError:
        return Receiver(http="127.0.0.1:0", grpc=None, sink=minimal_sink(client))
