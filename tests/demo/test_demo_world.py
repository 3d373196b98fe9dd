"""The simulated world: deterministic, and its planted effects are really in the data."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest
from scipy import stats

from otel_impact.demo.truth import PlantedTruth
from otel_impact.demo.world import DAY_NS, TENURES, WorldParams, simulate


@pytest.fixture(scope="module")
def world():
    return simulate(WorldParams(users=3000, days=30, seed=11))


def _daily(world, ts, weights=None):
    day = (ts - world.params.start_ns) // DAY_NS
    return np.bincount(day, weights=weights, minlength=world.params.days)


def test_same_seed_same_world_other_seed_differs():
    a = simulate(WorldParams(users=300, days=10, seed=3))
    b = simulate(WorldParams(users=300, days=10, seed=3))
    c = simulate(WorldParams(users=300, days=10, seed=4))
    assert np.array_equal(a.predictions.ts_ns, b.predictions.ts_ns)
    assert np.array_equal(a.purchases.value, b.purchases.value)
    assert not np.array_equal(a.predictions.score[:50], c.predictions.score[:50])


def test_events_are_sorted_and_inside_the_period(world):
    p = world.params
    end = p.start_ns + p.days * DAY_NS
    for ts in (world.predictions.ts_ns, world.purchases.ts_ns, world.subscriptions.ts_ns):
        assert np.all(np.diff(ts) >= 0)
        assert ts.min() >= p.start_ns and ts.max() < end
    assert np.all(world.predictions.outcome_ts_ns > world.predictions.ts_ns)
    slices = world.day_slices(world.predictions.ts_ns)
    assert sum(s.stop - s.start for s in slices) == world.predictions.n


def test_v2_only_after_rollout_and_only_for_the_treatment_arm(world):
    t = world.params.truth
    pred = world.predictions
    v2 = pred.version == 1
    assert not np.any(v2 & (pred.day < t.rollout_day))
    assert np.all(world.users.treatment[pred.user[v2]])
    after = pred.day >= t.rollout_day
    assert np.array_equal(v2[after], world.users.treatment[pred.user[after]])


def test_purchases_follow_ctr_at_the_planted_lag_until_the_breakdown(world):
    t = world.params.truth
    pred = world.predictions
    ctr = _daily(world, pred.ts_ns, pred.click) / _daily(world, pred.ts_ns)
    value = _daily(world, world.purchases.ts_ns, world.purchases.value)
    b, lag = t.breakdown_day, t.lag_days
    r = {k: stats.pearsonr(ctr[: b - k], value[k:b])[0] for k in range(5)}
    assert max(r, key=r.get) == lag
    assert r[lag] > 0.8
    after = stats.pearsonr(ctr[b - lag : -lag], value[b:])[0]
    assert after < r[lag] - 0.5  # the relationship is gone after the breakdown


def test_scores_lose_information_after_the_schema_change(world):
    pred = world.predictions
    day = world.params.truth.degradation_day

    def auc(mask):
        return stats.mannwhitneyu(
            pred.score[mask & (pred.click == 1)], pred.score[mask & (pred.click == 0)]
        ).statistic / (np.sum(mask & (pred.click == 1)) * np.sum(mask & (pred.click == 0)))

    before, after = auc(pred.day < day), auc(pred.day >= day)
    assert before > 0.75 and after < 0.7 and before - after > 0.1


def test_planted_lift_is_large_for_power_users_and_tiny_for_casual(world):
    t = world.params.truth
    per_user = np.bincount(world.purchases.user, weights=world.purchases.value, minlength=world.params.users)
    tenure, arm = world.users.tenure, world.users.treatment
    power = TENURES.index("power")
    a, b = per_user[(tenure == power) & arm], per_user[(tenure == power) & ~arm]
    assert stats.ttest_ind(a, b, equal_var=False).pvalue < 0.001
    assert a.mean() / b.mean() - 1 > 0.15
    assert t.lift_for("casual") < 0.02 < t.lift_for("power")


def test_pipeline_events_plant_the_schema_change_and_an_unrelated_failure(world):
    t = world.params.truth
    runs = world.pipeline_runs
    schema = [r for r in runs if r.change == t.schema_change_kind]
    assert len(schema) == 1 and schema[0].pipeline == t.pipeline and schema[0].dataset == t.dataset
    assert (schema[0].ts_ns - world.params.start_ns) // DAY_NS == t.schema_change_day
    failed = [r for r in runs if r.status == "failed"]
    assert failed and {r.pipeline for r in failed} == {t.unrelated_pipeline}
    assert sum(r.pipeline == t.pipeline and r.event == "run" for r in runs) == world.params.days


def test_sampling_replica_serves_about_half_the_users(world):
    share = world.users.sampled.mean()
    assert 0.45 < share < 0.55


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"users": 5}, "users"), ({"days": 3}, "days"), ({"start": datetime(2026, 1, 1)}, "start")],
)
def test_bad_params_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        WorldParams(**kwargs)


def test_truth_validates_its_arguments():
    with pytest.raises(ValueError, match="sampled_ratio"):
        PlantedTruth(sampled_ratio=0.0)
    with pytest.raises(ValueError, match="lag_days"):
        PlantedTruth(lag_days=-1)
    assert PlantedTruth().expected_tenure_order()[0] == "power"
