"""Proportion metrics (AUC, accuracy per bucket) are tested on the asin(√x) scale: null false-alarm
rates on simulated small-bucket series, a planted drop in metric units, the transform's inverse."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from otel_impact.analyze.anomaly import detect_anomalies
from otel_impact.analyze.bounded import detect_proportion_anomalies, from_angle, to_angle

SERIES, BUCKETS = 20, 700


def _bucket_metrics(seed: int, buckets: int = BUCKETS) -> tuple[np.ndarray, np.ndarray]:
    """Hourly AUC and accuracy of a model with nothing happening: ≈ 40 labels per bucket (Poisson
    with a traffic wobble), 30 % positives, scores from a fixed logistic model."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(40 * np.exp(0.1 * rng.normal(size=buckets)))
    auc, acc = np.full(buckets, np.nan), np.full(buckets, np.nan)
    for b, n in enumerate(counts):
        y = rng.random(n) < 0.3
        s = 1 / (1 + np.exp(-(1.2 * (2 * y - 1) - 0.8 + rng.normal(0, 1, n))))
        if y.any() and (~y).any():
            n1 = int(y.sum())  # Mann–Whitney U of the positives over n1·n0
            auc[b] = (stats.rankdata(s)[y].sum() - n1 * (n1 + 1) / 2) / (n1 * (n - n1))
        acc[b] = np.mean((s >= 0.5) == y)
    return auc, acc


@pytest.fixture(scope="module")
def null_series() -> list[tuple[np.ndarray, np.ndarray]]:
    return [_bucket_metrics(seed) for seed in range(SERIES)]


def _points(det) -> int:
    return sum(a.method == "robust_z" for a in det.anomalies)


def test_null_small_bucket_auc_raises_few_point_anomalies_on_the_angle_scale(null_series) -> None:
    raw = sum(_points(detect_anomalies(auc, alpha=0.01)) for auc, _ in null_series) / SERIES
    angle = sum(_points(detect_proportion_anomalies(auc, alpha=0.01)) for auc, _ in null_series) / SERIES
    assert raw > 1.0  # the skewed lower tail of a small-sample AUC: the symmetric test cries wolf
    assert angle <= 0.25


def test_null_small_bucket_accuracy_stays_quiet(null_series) -> None:
    flagged = sum(_points(detect_proportion_anomalies(acc, alpha=0.01)) for _, acc in null_series) / SERIES
    assert flagged <= 0.35
    assert all(detect_proportion_anomalies(acc, alpha=0.01).changepoints == () for _, acc in null_series[:5])


def test_planted_auc_drop_is_found_and_reported_in_auc_units() -> None:
    auc, _ = _bucket_metrics(7, buckets=240)
    before = float(np.nanmean(auc[:160]))
    auc[160:] = np.clip(auc[160:] - 0.12, 0, 1)
    found = [a for a in detect_proportion_anomalies(auc, alpha=0.01).anomalies if a.method == "changepoint"]
    assert len(found) == 1
    (a,) = found
    assert abs(a.start - 160) <= 2 and a.direction == "down"
    assert a.baseline == pytest.approx(before, abs=0.01)
    assert a.estimate == pytest.approx(float(np.nanmean(auc[a.start : a.end])) - a.baseline)
    assert a.estimate == pytest.approx(-0.12, abs=0.015)


def test_min_effect_is_in_metric_units() -> None:
    auc, _ = _bucket_metrics(7, buckets=240)
    auc[160:] = np.clip(auc[160:] - 0.12, 0, 1)
    assert detect_proportion_anomalies(auc, alpha=0.01, min_effect=0.2).anomalies == ()
    assert detect_proportion_anomalies(auc, alpha=0.01, min_effect=0.1).anomalies != ()


def test_transform_and_inverse() -> None:
    x = np.array([0.0, 0.25, 0.5, 1.0, math.nan])
    assert np.allclose(to_angle(x)[:4], [0.0, math.pi / 6, math.pi / 4, math.pi / 2])
    assert np.allclose(from_angle(to_angle(x))[:4], x[:4]) and math.isnan(to_angle(x)[4])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        to_angle([0.5, 1.2])
