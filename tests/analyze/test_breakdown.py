"""Breakdown alerting: Fisher-z difference against scipy, planted breakdown vs stable null."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from otel_impact.analyze.alerts import Persistence
from otel_impact.analyze.breakdown import condition_of, detect_breakdown
from otel_impact.analyze.results import DegenerateDataWarning

# autocorrelated cases warn that the windowed comparison is skipped; that is expected here
pytestmark = pytest.mark.filterwarnings(
    "ignore:recent window:otel_impact.analyze.results.DegenerateDataWarning"
)


def _series(seed: int, *, brk: bool, n: int = 90, at: int = 60, r: float = 0.95, post: float = -0.95):
    rng = np.random.default_rng(seed)
    e = rng.normal(size=n)
    x = np.empty(n)
    x[0] = e[0]
    for t in range(1, n):
        x[t] = 0.3 * x[t - 1] + e[t]
    rho = np.full(n, r)
    if brk:
        rho[at:] = post
    y = rho * x + np.sqrt(1 - rho**2) * rng.normal(size=n)
    return x, y


def _first_firing(b) -> int | None:
    firing = [t.index for t in b.transitions if t.state == "firing"]
    return firing[0] if firing else None


def test_planted_breakdown_alerts_within_five_buckets_and_null_stays_quiet() -> None:
    # planted: r = 0.95 flips to -0.95 at bucket 60 (model AR(1) phi = 0.3); null: r = 0.95 throughout
    detected = false_alarms = 0
    for seed in range(50):
        first = _first_firing(detect_breakdown(*_series(seed, brk=True)))
        detected += first is not None and 60 <= first <= 65
        false_alarms += _first_firing(detect_breakdown(*_series(seed + 1000, brk=False))) is not None
    assert detected >= 45, detected
    assert false_alarms <= 2, false_alarms


def test_fisher_z_difference_matches_scipy_pearson_on_the_windows() -> None:
    x, y = _series(3, brk=True)
    b = detect_breakdown(x, y, window=6, baseline=30, alpha=0.01)
    i = 70
    r1 = stats.pearsonr(x[i - 5 : i + 1], y[i - 5 : i + 1]).statistic
    r0 = stats.pearsonr(x[i - 35 : i - 5], y[i - 35 : i - 5]).statistic
    assert b.r_recent[i] == pytest.approx(r1, rel=1e-9)
    assert b.r_base[i] == pytest.approx(r0, rel=1e-9)
    from statsmodels.tsa.stattools import acf

    # Bretherton factor from the model metric and the reference fit's residuals (first 30 pairs)
    fit = stats.linregress(x[:30], y[:30])
    e = y[:30] - fit.intercept - fit.slope * x[:30]
    rho = acf(x[:30], nlags=1, fft=False)[1] * acf(e, nlags=1, fft=False)[1]
    f = (1 - rho) / (1 + rho)
    se = math.sqrt(1 / (6 * f - 3) + 1 / (30 * f - 3))
    z = (math.atanh(r1) - math.atanh(r0)) / se
    assert b.pvalue[i] == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)
    assert math.isnan(b.pvalue[14]) and not math.isnan(b.pvalue[15])  # baseline needs 10 pairs


def test_lag_shifts_indices_to_business_buckets_and_kind_is_named() -> None:
    x, y = _series(5, brk=True)
    lagged = np.r_[np.zeros(2), y[:-2]]  # business follows model by 2 buckets
    b = detect_breakdown(x, lagged, lag=2)
    first = _first_firing(b)
    assert first is not None and 62 <= first <= 68
    assert b.kind[first] in {"sign_flip", "weakening", "divergence", "residual_shift"}
    assert b.r_base[first] > 0.6 and b.r_recent[first] < b.r_base[first]


def test_divergence_model_up_business_down() -> None:
    rng = np.random.default_rng(9)
    n = 60
    x = rng.normal(size=n)
    y = 0.9 * x + 0.4 * rng.normal(size=n)
    trend = np.r_[np.zeros(50), np.arange(1, 11) * 1.5]
    x2 = x + trend
    y2 = np.r_[y[:50], y[50:] - np.arange(1, 11) * 1.5 - 0.9 * trend[50:]]
    b = detect_breakdown(x2, y2, window=6, baseline=30, alpha=0.01)
    assert _first_firing(b) is not None
    assert "divergence" in b.kind or "sign_flip" in b.kind


def test_degenerate_and_validation() -> None:
    with pytest.warns(DegenerateDataWarning):
        b = detect_breakdown(np.arange(10.0), np.arange(10.0))
    assert b.transitions == () and np.isnan(b.r_recent).all()
    const = detect_breakdown(np.ones(60), np.arange(60.0))
    assert const.transitions == () and np.isnan(const.r_recent).all()
    with pytest.raises(ValueError, match="window"):
        detect_breakdown(np.arange(50.0), np.arange(50.0), window=2)
    with pytest.raises(ValueError, match="alpha"):
        detect_breakdown(np.arange(50.0), np.arange(50.0), alpha=0)
    with pytest.raises(ValueError, match="lag"):
        detect_breakdown(np.arange(50.0), np.arange(50.0), lag=-1)
    with pytest.raises(ValueError, match="same length"):
        detect_breakdown(np.arange(50.0), np.arange(49.0))
    with pytest.raises(ValueError, match="prior_alpha"):
        detect_breakdown(np.arange(50.0), np.arange(50.0), prior_alpha=1.5)
    with pytest.raises(ValueError, match="monitor_alpha"):
        detect_breakdown(np.arange(50.0), np.arange(50.0), monitor_alpha=0)
    b = detect_breakdown(np.arange(50.0), np.arange(50.0) * 2)
    with pytest.raises(ValueError, match="significant must have"):
        condition_of(b, np.zeros(3), Persistence())


def _related(
    seed: int,
    n: int,
    *,
    phi: float,
    r: float,
    post: float | None = None,
    at: int = 60,
    phi_noise: float | None = None,
):
    """x AR(1) with ``phi``; y = r·x + AR(1) noise (``phi_noise``, default ``phi``), unit variances;
    the correlation changes to ``post`` at ``at``."""
    rng = np.random.default_rng(seed)

    def ar(k: int, phi: float) -> np.ndarray:
        e, out = rng.normal(size=k), np.empty(k)
        out[0] = e[0] / math.sqrt(1 - phi * phi)
        for t in range(1, k):
            out[t] = phi * out[t - 1] + e[t]
        return out * math.sqrt(1 - phi * phi)

    x, noise = ar(n, phi), ar(n, phi if phi_noise is None else phi_noise)
    rho = np.full(n, r)
    if post is not None:
        rho[at:] = post
    return x, rho * x + np.sqrt(1 - rho**2) * noise


def test_no_breakdown_without_an_established_prior_relationship() -> None:
    """r ≈ 0.1 before, −0.9 after: a 'sign flip' from noise is not a breakdown."""
    fired = 0
    for seed in range(20):
        x, y = _related(seed, 90, phi=0.0, r=0.1, post=-0.9)
        b = detect_breakdown(x, y)
        fired += bool(b.transitions)
        assert not b.established or b.prior_pvalue < 0.01
    assert fired <= 2


def test_strong_autocorrelated_relationship_is_still_alertable() -> None:
    """Model metric AR(1) phi = 0.9, business = 0.95·model + white noise: the business series is
    just as autocorrelated (inherited), but the effective size comes from the fit's residuals, so
    the strong relationship is established and its flip is caught within a few buckets."""
    delays = []
    for seed in range(20):
        x, y = _related(seed, 90, phi=0.9, r=0.95, post=-0.95, phi_noise=0.0)
        b = detect_breakdown(x, y)
        assert b.established
        first = _first_firing(b)
        delays.append(first - 60 if first is not None and first >= 60 else 99)
    assert np.median(delays) <= 4, delays


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.7])
def test_residual_cusum_false_alarms_on_stable_relationships(phi: float) -> None:
    """Stable r = 0.8 (a null for breakdown) on iid and AR(1) series: the residual monitor's
    false alarms stay near its budget (monitor_alpha = 0.05 per series here)."""
    alarms = 0
    for seed in range(40):
        x, y = _related(seed + 500, 90, phi=phi, r=0.8)
        b = detect_breakdown(x, y, monitor_alpha=0.05, alpha=1e-9)
        alarms += bool(np.nanmax(b.cusum) >= 1.0)
    assert alarms <= 5, alarms


def test_residual_cusum_detects_a_weakening_before_the_window_comparison() -> None:
    """r 0.8 → 0.2 from bucket 60: the model-based monitor is faster on average."""
    cusum_delay, corr_delay = [], []
    for seed in range(20):
        x, y = _related(seed + 900, 120, phi=0.3, r=0.8, post=0.2)
        b = detect_breakdown(x, y, baseline=30)
        hits = np.flatnonzero(b.cusum[60:] >= 1.0)
        cusum_delay.append(int(hits[0]) if hits.size else 60)
        hits = np.flatnonzero(b.pvalue[60:] < 0.002)
        corr_delay.append(int(hits[0]) if hits.size else 60)
    assert np.median(cusum_delay) < np.median(corr_delay), (cusum_delay, corr_delay)
