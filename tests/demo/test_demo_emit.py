"""Replaying a world through the instrumentation API and OTLP: every item is sent exactly once,
also when the users are split into shards (as the worker processes do)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from otel_impact import semconv
from otel_impact.demo.emit import emit_world, merge_counts
from otel_impact.demo.services import make_services
from otel_impact.demo.world import WorldParams, simulate
from otel_impact.receive import Receiver, Signal


@pytest.fixture()
def sink_receiver() -> Any:
    """An embedded receiver whose sink keeps what arrived (no store needed)."""
    got: dict[str, Any] = {"spans": [], "events": Counter(), "services": Counter()}

    def sink(signal: Signal, requests: Any) -> int:
        n = 0
        for req in requests:
            if signal == Signal.TRACES:
                assert isinstance(req, trace_service_pb2.ExportTraceServiceRequest)
                for rs in req.resource_spans:
                    for ss in rs.scope_spans:
                        for span in ss.spans:
                            attrs = {kv.key: kv.value for kv in span.attributes}
                            got["spans"].append(attrs)
                            n += 1
            elif signal == Signal.LOGS:
                assert isinstance(req, logs_service_pb2.ExportLogsServiceRequest)
                for rl in req.resource_logs:
                    service = next(
                        kv.value.string_value
                        for kv in rl.resource.attributes
                        if kv.key == semconv.SERVICE_NAME
                    )
                    for sl in rl.scope_logs:
                        for rec in sl.log_records:
                            got["events"][rec.event_name] += 1
                            got["services"][(service, rec.event_name)] += 1
                            n += 1
        return n

    rx = Receiver(sink=sink, http="127.0.0.1:0", grpc=None)
    rx.start()
    try:
        yield rx, got
    finally:
        rx.stop(drain=True)


def test_sharded_replay_sends_every_item_once(sink_receiver):
    rx, got = sink_receiver
    world = simulate(WorldParams(users=60, days=7, seed=5))
    parts = []
    for k in range(2):
        services = make_services(rx.endpoints.http, world.params.truth.sampled_ratio, replica=str(k))
        try:
            parts.append(emit_world(world, services, shard=(k, 2)))
        finally:
            services.shutdown()
    assert rx.flush(timeout=30)
    counts = merge_counts(parts)
    assert counts.predictions == world.predictions.n
    assert counts.purchases == world.purchases.n and counts.subscriptions == world.subscriptions.n
    assert counts.pipeline_events == len(world.pipeline_runs)
    assert counts.per_day == [int((world.predictions.day == d).sum()) for d in range(7)]
    assert abs(counts.purchase_value - float(world.purchases.value.sum())) < 1e-6
    # what arrived over OTLP
    assert len(got["spans"]) == counts.predictions_recorded < counts.predictions
    assert got["events"][semconv.EVENT_ML_OUTCOME] == counts.outcomes == counts.predictions
    assert got["events"][semconv.business_event("purchase")] == counts.purchases
    assert got["services"][("feature-pipeline", semconv.EVENT_PIPELINE_RUN)] == 2 * world.params.days
    ids = [s[semconv.ML_PREDICTION_ID].string_value for s in got["spans"]]
    assert len(set(ids)) == len(ids)
    # sampled predictions carry their weight; from the rollout on, the experiment arm
    weights = Counter(
        s[semconv.SAMPLING_ADJUSTED_COUNT].double_value
        for s in got["spans"]
        if semconv.SAMPLING_ADJUSTED_COUNT in s
    )
    assert set(weights) == {2.0}
    arms = Counter(
        s[semconv.FEATURE_FLAG_VARIANT].string_value
        for s in got["spans"]
        if semconv.FEATURE_FLAG_VARIANT in s
    )
    assert set(arms) == {"v1", "v2"}
    versions = {s[semconv.ML_MODEL_VERSION].string_value for s in got["spans"]}
    assert versions == {"v1", "v2"}


def test_bad_shard_is_rejected(sink_receiver):
    rx, _ = sink_receiver
    world = simulate(WorldParams(users=20, days=7, seed=1))
    services = make_services(rx.endpoints.http, 0.5)
    try:
        with pytest.raises(ValueError, match="shard"):
            emit_world(world, services, shard=(2, 2))
    finally:
        services.shutdown()
