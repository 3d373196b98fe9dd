"""Overhead of a fully instrumented prediction vs. a bare SDK span with the same attributes.

Run:  .venv/bin/python benchmarks/instrument_overhead.py [--n 5000] [--repeats 7]

Times are CPU time of the benchmark thread (``time.thread_time_ns``), so other processes on a
shared machine disturb them far less than wall time. Ratios are paired: each repeat's arm against
the bare span of the same repeat, median over repeats. Arms (all in one process, interleaved, median
of repeats; every arm uses the same SDK setup:
SimpleSpanProcessor to a discarding exporter, an InMemoryMetricReader collected every 1,000
predictions *inside* the timed loop so deferred metric work is charged to the arm that caused it):

* ``bare span``          — ``tracer.start_as_current_span`` with the same attributes track_prediction
                           ends up with (ids, segments, a precomputed feature hash, score, label).
* ``naive``              — the bare span + a synchronous counter add + two synchronous histogram
                           records per prediction (what a straightforward implementation does).
* ``track_prediction``   — otel-impact: span + count + latency + score metrics + feature hashing,
                           with standard OTLP histograms (``[otlp]``, the default: buffered values
                           are fed to the SDK histograms in bulk at collection) and with cumulative
                           bucket counters (``[buckets]``, ``OTEL_IMPACT_METRIC_HISTOGRAMS=buckets``).
* the same three with an ``ALWAYS_OFF`` sampler (metrics still recorded: they are unsampled).

Also reported: ``track_prediction`` request path only (collections excluded from the timing).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, Sampler

from otel_impact import semconv
from otel_impact.instrument import Instrumentation, Prediction, Settings, feature_hash

COLLECT_EVERY = 1000
FEATURES = [0.3, 1.0, 2.5, None]
SEGMENT = {"platform": "mobile", "tenure": "new"}


class _Discard(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def _setup(sampler: Sampler) -> tuple[TracerProvider, MeterProvider, InMemoryMetricReader]:
    tp = TracerProvider(sampler=sampler, shutdown_on_exit=False)
    tp.add_span_processor(SimpleSpanProcessor(_Discard()))
    reader = InMemoryMetricReader()
    mp = MeterProvider(metric_readers=[reader], shutdown_on_exit=False)
    return tp, mp, reader


def make_arms(sampler: Sampler, suffix: str) -> dict[str, tuple[Callable[[], None], Callable[[], None]]]:
    """name → (one prediction, one metric collection)."""
    arms: dict[str, tuple[Callable[[], None], Callable[[], None]]] = {}
    fhash = feature_hash(FEATURES)
    start_attrs = {
        semconv.ML_MODEL_NAME: "ranker",
        semconv.ML_MODEL_VERSION: "v2",
        semconv.ML_PREDICTION_ID: "0123456789abcdef0123456789abcdef",
        semconv.USER_ID: "u1",
        semconv.SESSION_ID: "s1",
        semconv.ML_REQUEST_ID: "r1",
        "ml.segment.platform": "mobile",
        "ml.segment.tenure": "new",
        semconv.ML_FEATURES_HASH: fhash,
        semconv.ML_FEATURES_MISSING: 1,
    }
    metric_attrs = {
        semconv.ML_MODEL_NAME: "ranker",
        semconv.ML_MODEL_VERSION: "v2",
        "ml.segment.platform": "mobile",
        "ml.segment.tenure": "new",
    }

    tp, _, reader = _setup(sampler)
    tracer = tp.get_tracer("bench")

    def bare() -> None:
        with tracer.start_as_current_span("predict ranker", attributes=start_attrs) as span:
            span.set_attribute(semconv.ML_PREDICTION_SCORE, 0.87)
            span.set_attribute(semconv.ML_PREDICTION_LABEL, "click")

    arms["bare span" + suffix] = (bare, reader.collect)

    tp, mp, reader = _setup(sampler)
    tracer2 = tp.get_tracer("bench")
    meter = mp.get_meter("bench")
    counter = meter.create_counter(semconv.METRIC_PREDICTIONS)
    latency = meter.create_histogram(semconv.METRIC_PREDICTION_DURATION, unit="s")
    scores = meter.create_histogram(semconv.METRIC_PREDICTION_SCORE)

    def naive() -> None:
        t0 = time.perf_counter()
        with tracer2.start_as_current_span("predict ranker", attributes=start_attrs) as span:
            span.set_attribute(semconv.ML_PREDICTION_SCORE, 0.87)
            span.set_attribute(semconv.ML_PREDICTION_LABEL, "click")
        counter.add(1, metric_attrs)
        latency.record(time.perf_counter() - t0, metric_attrs)
        scores.record(0.87, metric_attrs)

    arms["naive span+3 sync metrics" + suffix] = (naive, reader.collect)

    for mode in ("otlp", "buckets"):
        tp, mp, reader = _setup(sampler)
        settings = Settings(segment_keys=("platform", "tenure"), histograms=mode)
        track = Instrumentation(tracer_provider=tp, meter_provider=mp, settings=settings).track_prediction

        def tracked(track: Callable[..., Prediction] = track) -> None:
            with track("ranker", "v2", user_id="u1", session_id="s1", request_id="r1",
                       segment=SEGMENT, features=FEATURES) as p:  # fmt: skip
                p.record(score=0.87, label="click")

        arms[f"track_prediction [{mode}]" + suffix] = (tracked, reader.collect)
    return arms


def run_chunk(fn: Callable[[], None], collect: Callable[[], None], n: int) -> tuple[float, float]:
    """(µs per prediction including collections, µs per prediction excluding them)."""
    clock = time.thread_time_ns  # CPU time of this thread: robust to other load on a shared machine
    collect_ns = 0
    start = clock()
    for i in range(n):
        fn()
        if i % COLLECT_EVERY == COLLECT_EVERY - 1:
            c0 = clock()
            collect()
            collect_ns += clock() - c0
    total = clock() - start
    return total / n / 1e3, (total - collect_ns) / n / 1e3


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=5000, help="predictions per chunk")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)

    arms = {**make_arms(ALWAYS_ON, ""), **make_arms(ALWAYS_OFF, " (ALWAYS_OFF)")}
    for fn, collect in arms.values():  # warm-up
        run_chunk(fn, collect, 1000)
    totals: dict[str, list[float]] = {name: [] for name in arms}
    request_path: dict[str, list[float]] = {name: [] for name in arms}
    for _ in range(args.repeats):
        for name, (fn, collect) in arms.items():  # interleaved: load changes hit every arm alike
            total, path = run_chunk(fn, collect, args.n)
            totals[name].append(total)
            request_path[name].append(path)

    med = {name: statistics.median(v) for name, v in totals.items()}
    print(
        f"python {sys.version.split()[0]}, n={args.n} x {args.repeats} repeats, collect every {COLLECT_EVERY}"
    )
    print("vs bare = median over repeats of (arm / bare span of the same repeat): robust to load drift")
    print(f"{'arm':40s} {'µs/pred':>9s} {'vs bare':>8s} {'request path µs':>16s} {'path vs bare':>13s}")
    for name in arms:
        base = "bare span (ALWAYS_OFF)" if "ALWAYS_OFF" in name else "bare span"
        ratio = statistics.median(a / b for a, b in zip(totals[name], totals[base], strict=True))
        path_ratio = statistics.median(a / b for a, b in zip(request_path[name], totals[base], strict=True))
        print(
            f"{name:40s} {med[name]:9.2f} {ratio:7.2f}x {statistics.median(request_path[name]):16.2f}"
            f" {path_ratio:12.2f}x"
        )


if __name__ == "__main__":
    main()
