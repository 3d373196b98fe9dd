"""The demo's services draw trace ids from a seeded generator: the same seed samples the same traces."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import TraceIdRatioBased

from otel_impact.demo.services import SeededIdGenerator


def _sampled(seed: int | str, n: int = 400) -> list[tuple[int, bool]]:
    tp = TracerProvider(
        sampler=TraceIdRatioBased(0.5), id_generator=SeededIdGenerator(seed), shutdown_on_exit=False
    )
    tracer = tp.get_tracer("t")
    out = []
    for _ in range(n):
        with tracer.start_as_current_span("p") as span:
            ctx = span.get_span_context()
            out.append((ctx.trace_id, span.is_recording()))
    return out


def test_same_seed_same_ids_and_same_sampling_decisions():
    a, b, c = _sampled("7/recommender-b-w0"), _sampled("7/recommender-b-w0"), _sampled("8/recommender-b-w0")
    assert a == b and a != c
    assert all(0 < t < 2**128 for t, _ in a) and len({t for t, _ in a}) == len(a)
    # the ratio sampler still keeps about half of them (binomial 400 × 0.5: ±5 sd)
    assert 150 < sum(kept for _, kept in a) < 250
