"""Instrumentation settings read once from ``OTEL_IMPACT_*`` environment variables.

Invalid values never raise into the host: they are logged once and the default is used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from otel_impact import semconv
from otel_impact.instrument._safe import log_once

DEFAULT_CARDINALITY_CAP = 50
DEFAULT_METRIC_BUFFER = 16384
DEFAULT_FEATURE_SUMMARY_MAX_FEATURES = 32
DEFAULT_FEATURE_SUMMARY_INTERVAL_S = 60.0


@dataclass(frozen=True, slots=True)
class Settings:
    """What the instrumentation puts on metrics and how much it keeps locally.

    * ``segment_keys`` — segment keys allowed on metric attributes (``OTEL_IMPACT_SEGMENT_KEYS``).
    * ``cardinality_cap`` — distinct values kept per segment key before collapsing to ``other``.
    * ``metric_buffer`` — predictions queued between collections before recording threads start
      aggregating a few each themselves, bounding memory (``OTEL_IMPACT_METRIC_BUFFER``).
    * ``histograms`` — ``otlp`` (standard histograms) or ``buckets`` (cumulative bucket counters), see
      :mod:`.metrics` (``OTEL_IMPACT_METRIC_HISTOGRAMS``).
    * ``feature_summaries`` / ``feature_summary_max_features`` / ``feature_summary_interval_s`` —
      the opt-in per-feature summaries.
    """

    segment_keys: tuple[str, ...] = ()
    cardinality_cap: int = DEFAULT_CARDINALITY_CAP
    metric_buffer: int = DEFAULT_METRIC_BUFFER
    feature_summaries: bool = False
    feature_summary_max_features: int = DEFAULT_FEATURE_SUMMARY_MAX_FEATURES
    feature_summary_interval_s: float = DEFAULT_FEATURE_SUMMARY_INTERVAL_S
    histograms: str = "otlp"

    @classmethod
    def from_env(cls) -> Settings:
        keys = tuple(k.strip() for k in os.environ.get(semconv.ENV_SEGMENT_KEYS, "").split(",") if k.strip())
        return cls(
            segment_keys=keys,
            cardinality_cap=_positive_int(semconv.ENV_SEGMENT_CARDINALITY_CAP, DEFAULT_CARDINALITY_CAP),
            metric_buffer=_positive_int(semconv.ENV_METRIC_BUFFER, DEFAULT_METRIC_BUFFER),
            histograms=_choice(semconv.ENV_METRIC_HISTOGRAMS, ("otlp", "buckets"), "otlp"),
            feature_summaries=os.environ.get(semconv.ENV_FEATURE_SUMMARIES, "").strip().lower()
            in ("1", "true", "yes", "on"),
            feature_summary_max_features=_positive_int(
                semconv.ENV_FEATURE_SUMMARY_MAX_FEATURES, DEFAULT_FEATURE_SUMMARY_MAX_FEATURES
            ),
            feature_summary_interval_s=float(
                _positive_int(semconv.ENV_FEATURE_SUMMARY_INTERVAL, int(DEFAULT_FEATURE_SUMMARY_INTERVAL_S))
            ),
        )


def _positive_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
        if value <= 0:
            raise ValueError(f"{name} must be a positive integer, got {raw!r}")
    except ValueError as exc:
        log_once(f"env {name}", exc)
        return default
    return value


def _choice(name: str, allowed: tuple[str, ...], default: str) -> str:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in allowed:
        log_once(f"env {name}", ValueError(f"{name} must be one of {allowed}, got {raw!r}"))
        return default
    return raw
