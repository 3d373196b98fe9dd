"""Sampling awareness: how many real predictions one stored prediction span stands for.

Two sources, in the order the store reads them (``impact_predictions.adjusted_count``):

1. OTel probability sampling puts the rejection threshold in the W3C trace state, ``ot=th:<hex>``
   (T = hex right-padded to 14 digits, 56-bit); adjusted count = 2^56 / (2^56 − T). When it is
   present the instrumentation adds nothing.
2. Otherwise, when the tracer provider uses a ``TraceIdRatioBased`` sampler (directly or as the root
   of ``ParentBased``, e.g. ``OTEL_TRACES_SAMPLER=parentbased_traceidratio``), spans carry the
   attribute ``sampling.adjusted_count = 1 / ratio``.

Metrics are never sampled: counts, latency and scores are recorded for every prediction, sampled
or not. Analyses over spans sum ``adjusted_count`` instead of counting rows.
"""

from __future__ import annotations

from opentelemetry.trace import TraceState

from otel_impact import semconv

_THRESHOLD_PREFIX = semconv.TRACESTATE_THRESHOLD_KEY + ":"


def has_threshold(trace_state: TraceState | None) -> bool:
    """True when the trace state's ``ot`` entry carries a ``th:`` sampling threshold."""
    if not trace_state:
        return False
    ot = trace_state.get(semconv.TRACESTATE_OT_KEY) or ""
    return any(part.startswith(_THRESHOLD_PREFIX) for part in ot.split(";"))


def threshold_adjusted_count(trace_state: TraceState | None) -> float | None:
    """Adjusted count from ``ot=th:<hex>`` (2^56 / (2^56 − T)), ``None`` when absent or invalid."""
    if not trace_state:
        return None
    for part in (trace_state.get(semconv.TRACESTATE_OT_KEY) or "").split(";"):
        if part.startswith(_THRESHOLD_PREFIX):
            digits = part[len(_THRESHOLD_PREFIX) :]
            if not 1 <= len(digits) <= 14:
                return None
            try:
                threshold = int(digits.ljust(14, "0"), 16)
            except ValueError:
                return None
            return 2.0**56 / (2**56 - threshold)
    return None


def adjusted_count_for_sampler(sampler: object) -> float | None:
    """``1 / rate`` for a ratio sampler (or ParentBased over one) with rate in (0, 1), else ``None``."""
    root = getattr(sampler, "_root", sampler)  # ParentBased keeps its root sampler here
    rate = getattr(root, "rate", None)
    if isinstance(rate, int | float) and 0.0 < rate < 1.0:
        return 1.0 / float(rate)
    return None
