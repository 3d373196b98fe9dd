"""Anomalies of a metric whose bucket values are sample proportions in [0, 1] (AUC, accuracy).

A per-bucket AUC or accuracy computed from a few dozen labels is skewed near its upper bound
(AUC 0.93 from 12 positives and 28 negatives has skewness ≈ −0.85) and its spread depends on the
level. The symmetric robust z-test of :func:`~otel_impact.analyze.anomaly.detect_anomalies` then
flags the ordinary low buckets: on simulated hourly AUC series of that size (≈ 40 labels per
bucket, 58 days) it reported 2.45 point anomalies per series, where its nominal rate is 0.01.
So the detection runs on the variance-stabilising transform of a proportion,
``asin(√x)`` (Anscombe 1948), and everything it reports is mapped back to the metric's own
units: ``baseline`` through ``sin²``, ``estimate`` as the span's mean minus that baseline,
``min_effect`` applied in metric units. Change points and anomaly spans are those of the
transformed series (the transform is monotone, so "down" stays down); ``sigma`` and ``score``
stay on the transformed scale. On the same simulated series: AUC 0.075 and accuracy 0.15 point
anomalies per series (raw scale 2.45 and 0.225; the logit, tried too, gave AUC 0 but accuracy
12.4 — a bucket with every label right is an extreme logit). Measured by
``tests/analyze/test_bounded.py``.

>>> import numpy as np
>>> rng = np.random.default_rng(3)
>>> auc = 1 / (1 + np.exp(-(2.6 + rng.normal(0, 0.35, 60))))
>>> auc[40:] = 1 / (1 + np.exp(-(1.2 + rng.normal(0, 0.35, 20))))
>>> [(a.start, a.direction, round(a.baseline, 2), round(a.estimate, 2)) for a in detect_proportion_anomalies(auc).anomalies]
[(40, 'down', 0.93, -0.19)]
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from otel_impact.analyze.anomaly import Detection, detect_anomalies
from otel_impact.analyze.results import FloatArray, as_float_array


def to_angle(values: ArrayLike) -> FloatArray:
    """``asin(√x)`` of proportions in [0, 1] (NaN stays NaN)."""
    y = as_float_array(values, "values")
    finite = y[np.isfinite(y)]
    if finite.size and (finite.min() < 0 or finite.max() > 1):
        raise ValueError("values must lie in [0, 1]")
    with np.errstate(invalid="ignore"):
        return np.arcsin(np.sqrt(y))


def from_angle(values: ArrayLike) -> FloatArray:
    """The inverse of :func:`to_angle`: ``sin²``."""
    out: FloatArray = np.sin(np.asarray(values, dtype=np.float64)) ** 2
    return out


def detect_proportion_anomalies(values: ArrayLike, *, min_effect: float = 0.0, **kwargs: Any) -> Detection:
    """:func:`detect_anomalies` of proportions on the ``asin(√x)`` scale, reported in metric units.

    ``kwargs`` are passed to :func:`detect_anomalies`; ``min_effect`` is in metric units.
    """
    y = as_float_array(values, "values")
    det = detect_anomalies(to_angle(y), **kwargs)
    found = []
    for a in det.anomalies:
        base = float(from_angle(a.baseline)) if math.isfinite(a.baseline) else math.nan
        span = y[a.start : a.end]
        span = span[np.isfinite(span)]
        estimate = float(span.mean()) - base if span.size and math.isfinite(base) else math.nan
        if math.isfinite(estimate) and abs(estimate) < min_effect:
            continue
        found.append(dataclasses.replace(a, baseline=base, estimate=estimate))
    return dataclasses.replace(
        det, anomalies=tuple(found), baseline=from_angle(det.baseline), method=det.method + " (asin √x)"
    )
