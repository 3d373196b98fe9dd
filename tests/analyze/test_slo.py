"""SLO maths: burn rates against closed form, multi-window alerts on planted burns, budgets."""

from __future__ import annotations

import math

import numpy as np
import pytest

from otel_impact.analyze.slo import burn_rate, evaluate_slo, freshness_steps, trailing_sum
from otel_impact.config.contract import DEFAULT_BURN_WINDOWS

SRE = [(w.long, w.short, w.factor, w.severity) for w in DEFAULT_BURN_WINDOWS]
STEP = 60.0
LEAD = 3 * 1440  # three days of history before the evaluated day feed the 3d window


def traffic(
    rng: np.random.Generator, days: float, per_min: int, error_rate: float
) -> tuple[np.ndarray, np.ndarray]:
    n = int(days * 1440)
    total = np.full(n, float(per_min))
    bad = rng.binomial(per_min, error_rate, size=n).astype(float)
    return total - bad, total


def test_burn_rate_matches_closed_form() -> None:
    good = np.array([10, 10, 8, 10, 5], dtype=float)
    total = np.full(5, 10.0)
    got = burn_rate(good, total, step=60, window=120, objective=0.9)
    # trailing two minutes: errors / events / budget
    want = [0 / 10 / 0.1, 0 / 20 / 0.1, 2 / 20 / 0.1, 2 / 20 / 0.1, 5 / 20 / 0.1]
    assert got == pytest.approx(want)
    assert math.isnan(burn_rate([0.0], [0.0], step=60, window=60, objective=0.99)[0])
    assert trailing_sum(np.arange(6), 3).tolist() == [0, 1, 3, 6, 9, 12]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fast_burn_fires_within_the_short_window(seed: int) -> None:
    rng = np.random.default_rng(seed)
    good, total = traffic(rng, 4, 1000, 0.0005)  # half the budget of a 99.9 % SLO
    outage = LEAD + 600  # 10:00 of the evaluated day: 20 % errors for half an hour
    bad = rng.binomial(1000, 0.2, size=30).astype(float)
    good[outage : outage + 30] = total[outage : outage + 30] - bad
    res = evaluate_slo(
        good, total, step=STEP, objective=0.999, windows=SRE, eval_start=LEAD, period=30 * 86400
    )
    first = [a for a in res.alerts if a.state == "firing" and a.long_s == 3600]
    assert first, res.alerts
    fired_at = first[0].index - (outage - LEAD)
    assert 0 <= fired_at < 5  # within the 5 m short window of the 1 h / 14.4× pair
    assert first[0].severity == "critical"
    # the page resolves soon after the burn stops (short window drains in 5 m)
    resolved = [a for a in res.alerts if a.state == "resolved" and a.long_s == 3600]
    assert resolved and 30 <= resolved[0].index - (outage - LEAD) <= 36
    # budget: 30 min × 20 % over one day ≈ 0.42 % errors vs a 0.1 % budget, for 1/30 of the period
    assert res.error_ratio == pytest.approx((30 * 0.2 + 1410 * 0.0005) / 1440, rel=0.05)
    assert res.budget_consumed == pytest.approx(res.error_ratio / 0.001 / 30, rel=1e-9)
    assert res.budget_remaining == pytest.approx(1 - res.budget_consumed)


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_budget_consistent_error_rate_does_not_alert(seed: int) -> None:
    rng = np.random.default_rng(seed)
    good, total = traffic(rng, 4, 1000, 0.0009)  # 90 % of the budget, all the time
    res = evaluate_slo(good, total, step=STEP, objective=0.999, windows=SRE, eval_start=LEAD)
    assert res.alerts == ()
    assert all(not w.firing for w in res.windows)
    three_day = next(w for w in res.windows if w.long_s == 3 * 86400)
    assert three_day.burn_long == pytest.approx(0.9, abs=0.05)
    assert res.estimate == pytest.approx(0.9991, abs=1e-4)


def test_slow_burn_pages_only_on_the_ticket_pairs() -> None:
    rng = np.random.default_rng(7)
    good, total = traffic(rng, 4, 1000, 0.004)  # 4× budget for four days
    res = evaluate_slo(good, total, step=STEP, objective=0.999, windows=SRE, eval_start=LEAD)
    fired = {(a.long_s, a.severity) for a in res.alerts if a.state == "firing"}
    assert fired == {(86400.0, "warning"), (3 * 86400.0, "warning")}


def test_no_events_gives_nan_and_a_warning() -> None:
    with pytest.warns(RuntimeWarning, match="no events"):
        res = evaluate_slo(np.zeros(10), np.zeros(10), step=60, objective=0.99, windows=SRE)
    assert math.isnan(res.estimate) and math.isnan(res.budget_remaining) and res.alerts == ()


def test_freshness_steps() -> None:
    ends = np.arange(1, 11) * 60.0
    assert freshness_steps([0.0, 300.0], ends, 120.0).tolist() == [1, 1, 0, 0, 1, 1, 1, 0, 0, 0]
    assert freshness_steps([], ends, 120.0).tolist() == [0.0] * 10


def test_argument_validation() -> None:
    with pytest.raises(ValueError, match="objective"):
        evaluate_slo([1.0], [1.0], step=60, objective=1.0, windows=SRE)
    with pytest.raises(ValueError, match="good must not exceed total"):
        burn_rate([2.0], [1.0], step=60, window=60, objective=0.9)
    with pytest.raises(ValueError, match="same shape"):
        burn_rate([1.0], [1.0, 1.0], step=60, window=60, objective=0.9)
    with pytest.raises(ValueError, match="non-negative"):
        burn_rate([-1.0], [1.0], step=60, window=60, objective=0.9)
    with pytest.raises(ValueError, match="short < long"):
        evaluate_slo([1.0], [1.0], step=60, objective=0.9, windows=[(60, 120, 2.0, "critical")])
    with pytest.raises(ValueError, match="eval_start"):
        evaluate_slo([1.0], [1.0], step=60, objective=0.9, windows=SRE, eval_start=5)
    with pytest.raises(ValueError, match="max_age"):
        freshness_steps([0.0], [1.0], 0)
    with pytest.raises(ValueError, match="steps"):
        trailing_sum([1.0], 0)


def test_unknown_steps_before_the_first_event_neither_burn_nor_count() -> None:
    good = np.r_[np.zeros(30), np.full(90, 10.0)]  # nothing known before step 30 (zeros, not failures)
    total = np.r_[np.zeros(30), np.full(90, 10.0)]
    stale = np.r_[np.zeros(30), np.full(90, 1.0)], np.ones(120)  # freshness-style: 0 good = stale
    res = evaluate_slo(*stale, step=60, objective=0.99, windows=[(600, 60, 2.0, "critical")], first_known=30)
    assert res.alerts == () and res.estimate == pytest.approx(1.0)
    naive = evaluate_slo(*stale, step=60, objective=0.99, windows=[(600, 60, 2.0, "critical")])
    assert naive.alerts and naive.alerts[0].index == 0
    # a long window is judged only once its whole span is known
    burn = burn_rate(good, total, step=60, window=600, objective=0.99, first_known=30)
    assert np.isnan(burn[:39]).all() and np.isfinite(burn[39:]).all()
    with pytest.raises(ValueError, match="first_known"):
        evaluate_slo(good, total, step=60, objective=0.99, windows=[], first_known=-1)
