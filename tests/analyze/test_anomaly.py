"""Anomaly detection on model-metric series: planted shifts found, stable series quiet."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from otel_impact.analyze.anomaly import (
    adaptive_baseline,
    binary_segmentation,
    detect_anomalies,
    robust_sigma,
    seasonal_profile,
)
from otel_impact.analyze.results import DegenerateDataWarning

DAYS = 30


def auc_series(
    seed: int, *, drop_at: int | None = None, drop: float = 0.05, weekly: float = 0.0
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = 0.78 + rng.normal(0.0, 0.01, DAYS) + weekly * np.sin(2 * np.pi * np.arange(DAYS) / 7)
    if drop_at is not None:
        x[drop_at:] -= drop
    return x


@pytest.mark.parametrize("seed", range(10))
def test_planted_auc_drop_from_day_13_is_found_within_one_day(seed: int) -> None:
    det = detect_anomalies(auc_series(seed, drop_at=13))
    downs = [a for a in det.anomalies if a.direction == "down"]
    assert downs, det
    first = downs[0]
    assert abs(first.start - 13) <= 1
    assert first.method == "changepoint"
    assert first.end == DAYS
    assert first.estimate == pytest.approx(-0.05, abs=0.015)
    assert first.pvalue < 1e-3


def test_stable_series_quiet_in_at_least_95_percent_of_100_seeds() -> None:
    flagged = sum(bool(detect_anomalies(auc_series(seed)).anomalies) for seed in range(100))
    assert flagged <= 5


def test_weekly_seasonal_series_quiet_when_period_is_given() -> None:
    flagged = sum(bool(detect_anomalies(auc_series(s, weekly=0.03), period=7).anomalies) for s in range(100))
    assert flagged <= 5
    det = detect_anomalies(auc_series(0, weekly=0.03), period=7)
    assert det.seasonal


def test_weekly_seasonal_series_with_drop_found_with_season_removed() -> None:
    hits = 0
    for seed in range(20):
        det = detect_anomalies(auc_series(seed, drop_at=22, weekly=0.03), period=7)
        hits += any(a.direction == "down" and abs(a.start - 22) <= 1 for a in det.anomalies)
    assert hits >= 18


def test_temporary_drop_and_recovery_is_one_bounded_anomaly() -> None:
    x = auc_series(5)
    x[15:20] -= 0.06
    det = detect_anomalies(x)
    assert [(a.start, a.end, a.direction) for a in det.anomalies] == [(15, 20, "down")]
    assert det.changepoints == (15, 20)


def test_spike_detection_rate_with_winsorised_sigma() -> None:
    hits = 0
    for seed in range(50):
        x = auc_series(seed)
        x[20] += 0.08  # 8 σ
        hits += any(a.start == 20 and a.method == "robust_z" for a in detect_anomalies(x).anomalies)
    assert hits >= 45


def test_single_spike_is_a_point_anomaly() -> None:
    x = auc_series(2)
    x[20] += 0.12
    det = detect_anomalies(x)
    spikes = [a for a in det.anomalies if a.method == "robust_z"]
    assert [(a.start, a.end, a.direction) for a in spikes] == [(20, 21, "up")]
    assert spikes[0].estimate == pytest.approx(0.12, abs=0.03)


def test_nan_buckets_are_skipped_and_indices_map_back() -> None:
    x = auc_series(1, drop_at=14)
    x[[3, 14, 25]] = np.nan
    det = detect_anomalies(x)
    downs = [a for a in det.anomalies if a.direction == "down"]
    assert downs and downs[0].start == 15 and downs[0].end == DAYS
    assert det.n == DAYS - 3
    assert np.isnan(det.baseline[3])


def test_min_effect_suppresses_small_shifts() -> None:
    x = auc_series(3, drop_at=13, drop=0.03)
    assert detect_anomalies(x).anomalies
    assert not detect_anomalies(x, min_effect=0.05).anomalies


def test_robust_sigma_matches_the_noise_scale_and_ignores_a_level_shift() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(0, 2.0, 5000)
    assert robust_sigma(x) == pytest.approx(2.0, rel=0.05)
    x[2500:] += 50.0
    assert robust_sigma(x) == pytest.approx(2.0, rel=0.05)
    assert math.isnan(robust_sigma([1.0, 2.0]))


def test_binary_segmentation_cusum_statistic_matches_closed_form() -> None:
    # one split: the standardised CUSUM at the true split exceeds the threshold, a higher one does not split
    x = np.r_[np.zeros(10), np.ones(10)]
    stat = abs(0.0 - 1.0) * math.sqrt(10 * 10 / 20) / 0.5  # = 3.162... / 0.5
    assert binary_segmentation(x, sigma=0.5, threshold=stat - 1e-9) == (10,)
    assert binary_segmentation(x, sigma=0.5, threshold=stat + 1e-9) == ()


def test_seasonal_profile_and_adaptive_baseline() -> None:
    x = np.tile([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], 3)
    prof = seasonal_profile(x, 7)
    assert np.allclose(prof[:7], np.arange(1.0, 8.0) - 4.0)
    assert not seasonal_profile(x[:14], 7).any()  # fewer than 3 cycles
    base, hist = adaptive_baseline(np.array([1.0, 3.0, 2.0, 100.0, 2.0]), window=3)
    assert np.isnan(base[0])
    assert base.tolist()[1:] == [1.0, 2.0, 2.0, 3.0]
    assert hist.tolist() == [0, 1, 2, 3, 3]
    assert base[4] == float(np.median([3.0, 2.0, 100.0]))


def test_degenerate_series_warn_and_return_nothing() -> None:
    with pytest.warns(DegenerateDataWarning):
        det = detect_anomalies([0.7, 0.71, np.nan])
    assert det.anomalies == () and math.isnan(det.sigma) and det.n == 2
    with pytest.warns(DegenerateDataWarning):
        det = detect_anomalies(np.full(20, 0.7))
    assert det.anomalies == ()


def test_step_in_a_constant_series_is_found() -> None:
    det = detect_anomalies(np.r_[np.full(10, 0.8), np.full(10, 0.7)])
    assert [(a.start, a.direction) for a in det.anomalies] == [(10, "down")]


def test_shift_score_sigma_and_pvalue_match_closed_form() -> None:
    x = auc_series(4, drop_at=10)
    det = detect_anomalies(x)
    (a,) = det.anomalies
    assert det.changepoints == (10,)
    # Student t with ν = n − segments = 28 residual degrees of freedom
    assert a.pvalue == pytest.approx(2 * stats.t.sf(abs(a.score), 28), rel=1e-9)
    before, after = x[:10], x[10:]
    resid = np.r_[before - before.mean(), after - after.mean()]
    assert np.max(np.abs(resid)) < 3.5 * robust_sigma(x)  # below the winsorising bound
    sigma = math.sqrt(np.sum(resid**2) / 28)
    assert det.sigma == pytest.approx(sigma, rel=1e-9)
    se = sigma * math.sqrt(1 / 20 + 1 / 10)
    assert a.score == pytest.approx((after.mean() - before.mean()) / se, rel=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"alpha": 0.0}, "alpha"),
        ({"window": 0}, "window"),
        ({"min_size": 0}, "min_size"),
        ({"period": 0}, "period"),
        ({"min_effect": -1.0}, "min_effect"),
        ({"min_points": 2}, "min_points"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        detect_anomalies(np.zeros(10), **kwargs)  # type: ignore[arg-type]


def test_values_must_be_one_dimensional() -> None:
    with pytest.raises(ValueError, match="values"):
        detect_anomalies(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="sigma"):
        binary_segmentation([1.0, 2.0], sigma=0.0, threshold=1.0)
    with pytest.raises(ValueError, match="min_size"):
        binary_segmentation([1.0, 2.0], sigma=1.0, threshold=1.0, min_size=0)
    with pytest.raises(ValueError, match="window"):
        adaptive_baseline([1.0, 2.0], window=0)
    with pytest.raises(ValueError, match="values"):
        robust_sigma(np.zeros((2, 2)))
