"""Bulk histogram feeding: the exported points equal what one ``Histogram.record`` per value gives."""

from __future__ import annotations

import random
from typing import Any

import pytest
from opentelemetry.sdk.metrics import Histogram as SdkHistogram
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
from opentelemetry.sdk.metrics.view import (
    ExplicitBucketHistogramAggregation,
    ExponentialBucketHistogramAggregation,
    View,
)

from otel_impact.instrument.histograms import BulkHistogram
from otel_impact.instrument.metrics import LATENCY_BUCKETS_S

ATTRS = {"ml.model.name": "m", "ml.model.version": "v"}
OTHER = {"ml.model.name": "m", "ml.model.version": "w"}


def _reader(delta: bool) -> InMemoryMetricReader:
    if delta:
        return InMemoryMetricReader(preferred_temporality={SdkHistogram: AggregationTemporality.DELTA})
    return InMemoryMetricReader()


def _points(reader: InMemoryMetricReader) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    data = reader.get_metrics_data()
    out: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    if data is None:  # a delta reader with nothing new
        return out
    for rm in data.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                for p in metric.data.data_points:
                    key = tuple(sorted(dict(p.attributes).items()))
                    if hasattr(p, "bucket_counts"):  # explicit buckets
                        out[key] = (p.count, round(p.sum, 9), p.min, p.max, tuple(p.bucket_counts),
                                    tuple(p.explicit_bounds))  # fmt: skip
                    else:  # exponential
                        out[key] = (p.count, round(p.sum, 9), p.min, p.max, p.scale,
                                    tuple(p.positive.bucket_counts), p.zero_count)  # fmt: skip
    return out


def _pair(delta: bool = False, views: tuple[View, ...] = ()) -> tuple[Any, ...]:
    """(bulk instrument, its reader, reference instrument, its reader) on separate providers."""
    out: list[Any] = []
    for _ in range(2):
        reader = _reader(delta)
        mp = MeterProvider(metric_readers=[reader], views=list(views), shutdown_on_exit=False)
        hist = mp.get_meter("t").create_histogram(
            "ml.prediction.duration", "s", explicit_bucket_boundaries_advisory=list(LATENCY_BUCKETS_S)
        )
        out += [hist, reader]
    return BulkHistogram(out[0], LATENCY_BUCKETS_S), out[1], out[2], out[3]


def _values(rng: random.Random, n: int) -> list[float]:
    # exact bucket boundaries and zeros included: bisect_left semantics must match the SDK's
    return [rng.choice([0.0, 0.001, 0.25, 10.0, 99.0, rng.expovariate(20.0)]) for _ in range(n)]


@pytest.mark.parametrize("delta", [False, True])
def test_bulk_points_equal_per_value_records(delta: bool) -> None:
    bulk, reader, ref, ref_reader = _pair(delta)
    assert bulk.bulk_supported
    rng = random.Random(7)
    for _ in range(3):  # three collections: cumulative state must carry over, delta must reset
        for attrs in (ATTRS, OTHER):
            values = _values(rng, 200)
            bulk.record_many(values, attrs)
            for v in values:
                ref.record(v, attrs)
        got, want = _points(reader), _points(ref_reader)
        assert got == want
        assert len(got) == 2
    # a collection with nothing new: cumulative repeats the totals, delta exports nothing
    assert _points(reader) == _points(ref_reader)


def test_bulk_merge_is_used_on_a_plain_sdk_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    bulk, reader, _, _ = _pair()
    calls: list[float] = []
    real = bulk.histogram.record
    monkeypatch.setattr(bulk.histogram, "record", lambda v, *a, **k: (calls.append(v), real(v, *a, **k)))
    bulk.record_many([0.1, 0.2, 0.3, 0.4], ATTRS)
    assert calls == [0.1]  # one public record creates the aggregation; the other three are merged
    [(count, total, low, high, *_)] = _points(reader).values()
    assert (count, total, low, high) == (4, 1.0, 0.1, 0.4)


@pytest.mark.parametrize(
    "view",
    [
        View(
            instrument_name="ml.prediction.duration",
            aggregation=ExplicitBucketHistogramAggregation([0.01, 1.0]),
        ),
        View(instrument_name="ml.prediction.duration", aggregation=ExponentialBucketHistogramAggregation()),
        View(instrument_name="ml.prediction.duration", attribute_keys={"ml.model.name"}),
    ],
    ids=["other-boundaries", "exponential", "attribute-filter"],
)
def test_views_get_the_same_points_as_per_value_records(view: View) -> None:
    bulk, reader, ref, ref_reader = _pair(views=(view,))
    rng = random.Random(11)
    for attrs in (ATTRS, OTHER):
        values = _values(rng, 50)
        bulk.record_many(values, attrs)
        for v in values:
            ref.record(v, attrs)
    got = _points(reader)
    assert got == _points(ref_reader)
    assert sum(p[0] for p in got.values()) == 100


def test_two_readers_each_get_every_value() -> None:
    readers = [InMemoryMetricReader(), _reader(delta=True)]
    mp = MeterProvider(metric_readers=readers, shutdown_on_exit=False)
    hist = mp.get_meter("t").create_histogram(
        "d", explicit_bucket_boundaries_advisory=list(LATENCY_BUCKETS_S)
    )
    bulk = BulkHistogram(hist, LATENCY_BUCKETS_S)
    bulk.record_many([0.002, 0.003, 0.5], ATTRS)
    for reader in readers:
        [(count, total, *_)] = _points(reader).values()
        assert (count, total) == (3, 0.505)


def test_cardinality_overflow_falls_back_to_per_value_records() -> None:
    view = View(instrument_name="ml.prediction.duration", aggregation_cardinality_limit=1)
    bulk, reader, ref, ref_reader = _pair(views=(view,))
    for attrs in (ATTRS, OTHER):  # the second attribute set lands in the overflow point
        bulk.record_many([0.1, 0.2, 0.3], attrs)
        for v in (0.1, 0.2, 0.3):
            ref.record(v, attrs)
    assert _points(reader) == _points(ref_reader)


def test_a_non_sdk_histogram_is_replayed_value_by_value() -> None:
    class Recording:
        def __init__(self) -> None:
            self.values: list[float] = []

        def record(self, value: float, attributes: Any = None, context: Any = None) -> None:
            self.values.append(value)

    hist = Recording()
    bulk = BulkHistogram(hist, LATENCY_BUCKETS_S)  # type: ignore[arg-type]
    bulk.record_many([0.1, 0.2, 0.3], ATTRS)
    bulk.record_many([], ATTRS)
    assert hist.values == [0.1, 0.2, 0.3]


def test_a_delta_collection_between_record_and_merge_loses_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    reader = _reader(delta=True)
    mp = MeterProvider(metric_readers=[reader], shutdown_on_exit=False)
    hist = mp.get_meter("t").create_histogram(
        "d", explicit_bucket_boundaries_advisory=list(LATENCY_BUCKETS_S)
    )
    bulk = BulkHistogram(hist, LATENCY_BUCKETS_S)
    collected: list[dict[tuple[Any, ...], tuple[Any, ...]]] = []
    real_targets = bulk._targets

    def targets_then_collect(attrs: dict[str, str]) -> Any:
        found = real_targets(attrs)
        collected.append(_points(reader))  # as if another thread collected right now
        return found

    monkeypatch.setattr(bulk, "_targets", targets_then_collect)
    bulk.record_many([0.1, 0.2, 0.3], ATTRS)
    [(first, *_)] = collected[0].values()
    [(rest, total, *_)] = _points(reader).values()
    assert (first, rest, total) == (1, 2, 0.5)


def test_changed_sdk_internals_fall_back_to_per_value_records(monkeypatch: pytest.MonkeyPatch) -> None:
    from otel_impact.instrument import histograms

    def missing() -> Any:
        raise ImportError("no such private module")

    monkeypatch.setattr(histograms, "_sdk_internals", missing)
    bulk, reader, ref, ref_reader = _pair()
    bulk.record_many([0.1, 0.2, 0.3], ATTRS)
    for v in (0.1, 0.2, 0.3):
        ref.record(v, ATTRS)
    assert not bulk.bulk_supported
    assert _points(reader) == _points(ref_reader)
