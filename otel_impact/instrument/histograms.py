"""Feed pre-aggregated values into an SDK histogram: one ``record`` per series, the rest merged in bulk.

The OTel metrics API has no observable histogram and SDK 1.45 no public way to hand it a
pre-aggregated one, yet each synchronous ``Histogram.record`` costs several microseconds. So
:meth:`BulkHistogram.record_many` records the first value of a batch through the public API — which
creates the attribute set's aggregation in every reader and view, exactly as usual — and merges
the remaining values into those aggregations directly: bucket counts, sum, min and max, under the
aggregation's own lock. That is the arithmetic ``_ExplicitBucketHistogramAggregation.aggregate``
performs per value, done once per batch, so the exported points are the same standard OTLP
histogram points (only exemplars are not sampled for the merged values).

The merge uses SDK internals, so it is feature-detected and applied only where it is exact: an
SDK histogram whose every matching view aggregates with explicit buckets equal to ours. Anything
else (a proxy or no-op meter, an exponential-histogram view, other boundaries, the cardinality
overflow, an SDK that changed shape) replays the values one ``record`` at a time — slower, never
wrong.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from typing import Any

from opentelemetry.context import Context
from opentelemetry.metrics import Histogram

from otel_impact.instrument._safe import log_once

_EMPTY_CONTEXT = Context()  # values recorded at collection carry no span: no exemplar from another trace

_sdk: tuple[Any, Any] | None = None  # (_hash_attributes, _ExplicitBucketHistogramAggregation)


def _sdk_internals() -> tuple[Any, Any]:
    """The private SDK pieces the merge needs, imported on first use (an SDK instrument has loaded
    the SDK already; an API-only process never pays for it). Raises if the SDK changed shape."""
    global _sdk
    if _sdk is None:
        from opentelemetry.sdk.metrics._internal._view_instrument_match import _hash_attributes
        from opentelemetry.sdk.metrics._internal.aggregation import _ExplicitBucketHistogramAggregation

        _sdk = (_hash_attributes, _ExplicitBucketHistogramAggregation)
    return _sdk


class BulkHistogram:
    """A synchronous histogram plus its explicit ``boundaries``; see the module docstring."""

    def __init__(self, histogram: Histogram, boundaries: Sequence[float]) -> None:
        self.histogram = histogram
        self.boundaries = tuple(boundaries)
        self.bulk_supported = True  # until the SDK's internals turn out different

    def record_many(self, values: list[float], attrs: dict[str, str]) -> None:
        """Record every value in ``values`` (finite, ≥ 0) for the attribute set ``attrs``."""
        if not values:
            return
        record = self.histogram.record
        record(values[0], attrs, _EMPTY_CONTEXT)
        rest = values[1:]
        if not rest:
            return
        targets = None
        if self.bulk_supported:
            try:
                targets = self._targets(attrs)
            except Exception as exc:  # an SDK whose internals differ: replay from now on
                self.bulk_supported = False
                log_once("histogram bulk merge", exc)
        if targets is None:
            for value in rest:
                record(value, attrs, _EMPTY_CONTEXT)
            return
        counts = [0] * (len(self.boundaries) + 1)
        bounds = self.boundaries
        for value in rest:
            counts[bisect_left(bounds, value)] += 1
        try:
            self._merge(targets, counts, math.fsum(rest), min(rest), max(rest))
        except Exception as exc:  # internals differ after all: this batch is lost, later ones replay
            self.bulk_supported = False
            log_once("histogram bulk merge", exc)

    def _merge(self, targets: list[tuple[Any, Any, dict[str, str]]], counts: list[int], total: float,
               low: float, high: float) -> None:  # fmt: skip
        for vim, aggr_key, kept in targets:
            with vim._lock:  # a delta reader's collect swaps the aggregation table under this lock
                # looked up again now: the table may have been swapped since ``_targets`` (a delta
                # collection from another thread); this re-creates the point as a record would
                agg = vim._get_or_create_aggregation(aggr_key, kept)
                if not self._matches(agg):
                    continue  # cannot happen: the aggregation type is fixed per view
                with agg._lock:
                    if agg._value is None:
                        agg._value = agg._get_empty_bucket_counts()
                    bucket = agg._value
                    for i, c in enumerate(counts):
                        if c:
                            bucket[i] += c
                    agg._sum += total
                    if agg._record_min_max:
                        agg._min = min(agg._min, low)
                        agg._max = max(agg._max, high)

    def _matches(self, agg: object) -> bool:
        return isinstance(agg, _sdk_internals()[1]) and agg._boundaries == self.boundaries  # type: ignore[attr-defined]

    def _targets(self, attrs: dict[str, str]) -> list[tuple[Any, Any, dict[str, str]]] | None:
        """(view match, aggregation key, its attributes) for every reader and view, or ``None`` to replay."""
        instrument: Any = self.histogram
        real = getattr(instrument, "_real_instrument", None)  # API proxy of a late-set provider
        if real is not None:
            instrument = real
        consumer = getattr(instrument, "_measurement_consumer", None)
        storages = getattr(consumer, "_reader_storages", None)
        if storages is None:
            return None
        enabled = getattr(instrument, "_is_enabled", None)
        if enabled is not None and not enabled():  # a meter disabled by configuration: record as usual
            return None
        hash_attributes = _sdk_internals()[0]
        targets: list[tuple[Any, Any, dict[str, str]]] = []
        for storage in list(storages.values()):
            for vim in storage._instrument_view_instrument_matches.get(instrument, ()):
                keys = vim._view._attribute_keys
                kept = attrs if keys is None else {k: v for k, v in attrs.items() if k in keys}
                aggr_key = hash_attributes(kept)
                # the first value was just recorded, so the point exists unless it overflowed
                if not self._matches(vim._attributes_aggregation.get(aggr_key)):
                    return None
                targets.append((vim, aggr_key, kept))
        return targets
