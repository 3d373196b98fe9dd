"""Sampling awareness: adjusted counts on sampled spans, unsampled metrics."""

from __future__ import annotations

import pytest
from opentelemetry import context, trace
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased, TraceIdRatioBased
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, TraceState
from otel_harness import make_otel

from otel_impact import semconv
from otel_impact.instrument import Settings
from otel_impact.instrument.sampling import (
    adjusted_count_for_sampler,
    has_threshold,
    threshold_adjusted_count,
)


@pytest.mark.parametrize("sampler", [TraceIdRatioBased(0.25), ParentBased(TraceIdRatioBased(0.25))])
def test_ratio_sampler_sets_adjusted_count(sampler: object) -> None:
    o = make_otel(Settings(), sampler=sampler)  # type: ignore[arg-type]
    n = 400
    for _ in range(n):
        with o.instr.track_prediction("m", "v"):
            pass
    spans = o.spans()
    assert 0 < len(spans) < n
    assert all(s.attributes[semconv.SAMPLING_ADJUSTED_COUNT] == 4.0 for s in spans)
    # re-weighting recovers the true volume (binomial(400, 0.25): sd of the estimate ≈ 35)
    assert abs(len(spans) * 4.0 - n) < 5 * 35
    assert o.metrics()[semconv.METRIC_PREDICTIONS][0].value == n  # metrics are not sampled


def test_always_on_sets_no_adjusted_count() -> None:
    o = make_otel(Settings(), sampler=ALWAYS_ON)
    with o.instr.track_prediction("m", "v"):
        pass
    assert semconv.SAMPLING_ADJUSTED_COUNT not in o.spans()[0].attributes


def test_tracestate_threshold_takes_precedence() -> None:
    o = make_otel(Settings(), sampler=ParentBased(TraceIdRatioBased(0.5)))
    parent = SpanContext(
        trace_id=0x1234, span_id=0x99, is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED),
        trace_state=TraceState([("ot", "th:8")]),
    )  # fmt: skip
    token = context.attach(trace.set_span_in_context(NonRecordingSpan(parent)))
    try:
        with o.instr.track_prediction("m", "v"):
            pass
    finally:
        context.detach(token)
    [span] = o.spans()
    assert span.context.trace_state.get("ot") == "th:8"
    assert semconv.SAMPLING_ADJUSTED_COUNT not in span.attributes


def test_threshold_arithmetic() -> None:
    assert threshold_adjusted_count(TraceState([("ot", "th:8")])) == 2.0  # T = 2^55 → p = 1/2
    assert threshold_adjusted_count(TraceState([("ot", "th:c")])) == 4.0  # T = 3·2^54 → p = 1/4
    assert threshold_adjusted_count(TraceState([("ot", "rv:abc;th:0")])) == 1.0
    assert threshold_adjusted_count(TraceState([("ot", "th:zz")])) is None
    assert threshold_adjusted_count(TraceState()) is None
    assert has_threshold(TraceState([("ot", "rv:1;th:8")]))
    assert not has_threshold(TraceState([("ot", "rv:1")]))


def test_adjusted_count_for_sampler() -> None:
    assert adjusted_count_for_sampler(TraceIdRatioBased(0.1)) == pytest.approx(10.0)
    assert adjusted_count_for_sampler(ParentBased(TraceIdRatioBased(0.5))) == 2.0
    assert adjusted_count_for_sampler(TraceIdRatioBased(1.0)) is None
    assert adjusted_count_for_sampler(ALWAYS_ON) is None
    assert adjusted_count_for_sampler(None) is None
