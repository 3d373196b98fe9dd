"""Evaluation matrix: per AI feature, offline metric × online metric → what to do next.

=================  ==================  =======================
offline passes     online passes       decision
=================  ==================  =======================
yes                yes                 ``ship``
yes                no                  ``iterate_ux`` — the model is good but users don't act on it
no                 yes                 ``fix_model`` — it works despite the model; improve the model
no                 no                  ``both``
=================  ==================  =======================

A metric with no value (no data) gives ``needs_data``. The online value is read from the analysis
result (a series summarised by ``stat``, or a lift estimate); the offline value is given in config
or read by the job from an SQL source and passed in. Pure: no I/O.

>>> decide(True, True), decide(True, False), decide(False, True), decide(False, False)
('ship', 'iterate_ux', 'fix_model', 'both')
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from otel_impact.config.job import EvaluationFeature, OnlineMetric
from otel_impact.records import EvaluationRow, GateCheck, Result

DECISIONS: dict[str, str] = {
    "ship": "ship",
    "iterate_ux": "iterate on UX",
    "fix_model": "fix the model",
    "both": "fix the model and iterate on UX",
    "needs_data": "needs data",
}


def decide(offline_ok: bool | None, online_ok: bool | None) -> str:
    """Decision key for the two threshold checks (``None`` = no data)."""
    if offline_ok is None or online_ok is None:
        return "needs_data"
    if offline_ok and online_ok:
        return "ship"
    if offline_ok:
        return "iterate_ux"
    if online_ok:
        return "fix_model"
    return "both"


def passes(value: float | None, threshold: float, higher_is_better: bool) -> bool | None:
    """Whether ``value`` meets ``threshold`` in the good direction (None when there is no value)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value >= threshold if higher_is_better else value <= threshold


def _finite(values: Sequence[Any]) -> list[float]:
    out = []
    for v in values:
        if v is None or isinstance(v, bool):
            continue
        try:
            f = float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(f):
            out.append(f)
    return out


def online_value(metric: OnlineMetric, result: Result) -> float | None:
    """The online metric's value from the result (None when absent)."""
    if metric.series is not None:
        values: list[float] = []
        for series in result.series:
            if series.name == metric.series and not series.segment:
                values = _finite(series.values)
                break
        if not values:
            return None
        if metric.stat == "last":
            return values[-1]
        if metric.stat == "sum":
            return float(sum(values))
        return float(sum(values) / len(values))
    for lift in result.lift:
        if lift.metric == metric.lift and not lift.segment:
            found = _finite([lift.estimate])
            return found[0] if found else None
    return None


def evaluate(
    features: Sequence[EvaluationFeature],
    result: Result,
    offline_values: Mapping[str, float | None] | None = None,
) -> list[EvaluationRow]:
    """The ``evaluation`` section: one row per feature with both metrics and the decision.

    ``offline_values`` maps feature name → value read from an SQL source; features with a fixed
    ``offline.value`` use it directly.
    """
    rows = []
    for feature in features:
        off = feature.offline
        off_value = off.value if off.value is not None else (offline_values or {}).get(feature.name)
        on_value = online_value(feature.online, result)
        off_ok = passes(off_value, off.threshold, off.higher_is_better)
        on_ok = passes(on_value, feature.online.threshold, feature.online.higher_is_better)
        key = decide(off_ok, on_ok)
        rows.append(
            EvaluationRow(
                feature=feature.name,
                offline=GateCheck(metric=off.name, value=off_value, threshold=off.threshold, passes=off_ok),
                online=GateCheck(
                    metric=feature.online.series or feature.online.lift or "",
                    value=on_value,
                    threshold=feature.online.threshold,
                    passes=on_ok,
                ),
                decision=key,
                action=DECISIONS[key],
            )
        )
    return rows
