"""ROI and KPI table against closed-form arithmetic and scipy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from otel_impact.analyze.results import ConfidenceInterval, DegenerateDataWarning
from otel_impact.analyze.roi import MONTH_S, kpi_table, roi


def test_roi_closed_form_with_prorated_fixed_cost() -> None:
    r = roi(
        lift_absolute=0.25,
        units=40_000,
        predictions=3_000_000,
        cost_per_1k_predictions=0.05,
        fixed_cost_per_month=3000.0,
        compute_cost=200.0,
        period_s=7 * 86400.0,
        lift_ci=ConfidenceInterval(0.1, 0.4, 0.95),
    )
    cost = 3_000_000 / 1000 * 0.05 + 3000.0 * 7 / 30 + 200.0
    assert r.cost == pytest.approx(cost)
    assert r.incremental_value == pytest.approx(10_000.0)
    assert r.net_benefit == pytest.approx(10_000.0 - cost)
    assert r.roi_pct == pytest.approx(100 * (10_000.0 - cost) / cost)
    assert r.incremental_value_ci.to_list() == pytest.approx([4000.0, 16000.0])


def test_negative_lift_gives_negative_roi() -> None:
    r = roi(lift_absolute=-0.1, units=1000, predictions=0, fixed_cost_per_month=100.0, period_s=MONTH_S)
    assert r.net_benefit == pytest.approx(-200.0) and r.roi_pct == pytest.approx(-200.0)


def test_zero_cost_and_nan_lift_are_degenerate_not_errors() -> None:
    with pytest.warns(DegenerateDataWarning):
        r = roi(lift_absolute=float("nan"), units=10, predictions=10)
    assert math.isnan(r.roi_pct) and math.isnan(r.incremental_value) and r.cost == 0.0
    assert r.incremental_value_ci.is_nan


def test_kpi_table_pre_post_against_numpy_and_scipy() -> None:
    rng = np.random.default_rng(0)
    ts = np.arange(40) * 86400.0
    conv = np.where(ts < 20 * 86400.0, 0.10, 0.12) + rng.normal(0, 0.005, 40)
    lat = rng.normal(120, 5, 40)
    rows = {
        r.name: r for r in kpi_table({"conversion": (ts, conv), "latency_p95_ms": (ts, lat)}, 20 * 86400.0)
    }
    c = rows["conversion"]
    assert (c.n_pre, c.n_post) == (20, 20)
    assert c.pre == pytest.approx(conv[:20].mean()) and c.post == pytest.approx(conv[20:].mean())
    assert c.change_pct == pytest.approx(100 * (conv[20:].mean() / conv[:20].mean() - 1))
    assert c.pvalue == pytest.approx(stats.ttest_ind(conv[20:], conv[:20], equal_var=False).pvalue)
    assert c.pvalue < 1e-6 and rows["latency_p95_ms"].pvalue > 0.01
    with pytest.warns(DegenerateDataWarning):
        (only_pre,) = kpi_table({"x": (ts, conv)}, 1e12)
    assert math.isnan(only_pre.post) and only_pre.n_post == 0


def test_validation() -> None:
    with pytest.raises(ValueError, match="units"):
        roi(lift_absolute=1.0, units=-1, predictions=0)
    with pytest.raises(ValueError, match="cost_per_1k_predictions"):
        roi(lift_absolute=1.0, units=1, predictions=0, cost_per_1k_predictions=float("nan"))
    with pytest.raises(ValueError, match="period_s"):
        roi(lift_absolute=1.0, units=1, predictions=0, period_s=0)
    with pytest.raises(ValueError, match="differ in length"):
        kpi_table({"x": ([1.0, 2.0], [1.0])}, 0.0)


def test_no_roi_is_claimed_from_a_lift_that_is_not_significant() -> None:
    # a lift whose CI spans 0: the incremental value is reported, the ROI is not claimed
    kw = dict(lift_absolute=-4.0, units=100, predictions=1000, fixed_cost_per_month=0.1, period_s=MONTH_S)
    claimed = roi(**kw, lift_ci=ConfidenceInterval(-12.0, 5.0, 0.95))  # type: ignore[arg-type]
    assert claimed.claimed and claimed.roi_pct == pytest.approx(100 * (-400.0 - 0.1) / 0.1)
    r = roi(**kw, lift_ci=ConfidenceInterval(-12.0, 5.0, 0.95), lift_significant=False)  # type: ignore[arg-type]
    assert not r.claimed and math.isnan(r.roi_pct) and math.isnan(r.net_benefit)
    assert r.incremental_value == pytest.approx(-400.0) and r.cost == pytest.approx(0.1)
    assert r.incremental_value_ci.to_list() == pytest.approx([-1200.0, 500.0])
