"""Callables wrapped through OTEL_IMPACT_TARGETS in the auto-instrumentation tests."""

from __future__ import annotations


class Scorer:
    def score(self, x: float) -> float:
        return x / 2

    @staticmethod
    def static_score(x: float) -> float:
        return x / 4


def score_fn(x: float) -> float:
    return x * 2
