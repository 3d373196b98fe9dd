"""ROI and cost-benefit of a model version, and the pre/post-deployment KPI table.

* ``incremental_value = absolute lift per unit × units`` (e.g. extra purchase value per treated
  user × treated users); its interval scales the lift's interval the same way.
* ``cost = predictions / 1000 × cost_per_1k_predictions + fixed_cost_per_month × period / 30 d
  + compute_cost`` (the fixed monthly cost is pro-rated to the analysed period).
* ``net_benefit = incremental_value − cost``; ``roi_pct = 100 × net_benefit / cost`` (NaN with a
  warning when the cost is 0).
* ROI rests on the lift: when the caller says the lift is not significant
  (``lift_significant=False``), no effect is claimed — ``net_benefit`` and ``roi_pct`` are NaN and
  ``claimed`` is False; the incremental value's point estimate and CI stay for transparency.

The KPI table compares each per-bucket KPI (conversion, latency, cost …) before and after a
rollout time: means of the buckets before and from the rollout, the change, the relative change
and a Welch p-value over the bucket values (descriptive: buckets are treated as independent).

>>> r = roi(lift_absolute=0.5, units=10_000, predictions=2_000_000, cost_per_1k_predictions=0.1,
...         fixed_cost_per_month=1500.0, period_s=30 * 86400.0)
>>> r.incremental_value, r.cost, r.net_benefit, round(r.roi_pct, 2)
(5000.0, 1700.0, 3300.0, 194.12)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from otel_impact.analyze.lift import welch_t
from otel_impact.analyze.results import ConfidenceInterval, as_float_array, nan_ci, warn_degenerate

MONTH_S = 30 * 86400.0


@dataclass(frozen=True)
class Roi:
    """Cost-benefit of one model version over one period (money in the business metric's unit)."""

    incremental_value: float
    incremental_value_ci: ConfidenceInterval
    cost: float
    net_benefit: float
    roi_pct: float
    units: float
    predictions: float
    method: str = "lift-x-volume"
    claimed: bool = True  # False: the lift is not significant, so no ROI is claimed


@dataclass(frozen=True)
class KpiRow:
    """One KPI before and after the rollout."""

    name: str
    pre: float
    post: float
    change: float
    change_pct: float
    pvalue: float
    n_pre: int
    n_post: int


def _non_negative(name: str, value: float) -> float:
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def roi(
    *,
    lift_absolute: float,
    units: float,
    predictions: float,
    cost_per_1k_predictions: float = 0.0,
    fixed_cost_per_month: float = 0.0,
    compute_cost: float = 0.0,
    period_s: float = MONTH_S,
    lift_ci: ConfidenceInterval | None = None,
    lift_significant: bool = True,
) -> Roi:
    """Incremental value against costs → net benefit and ROI % (see module doc)."""
    units = _non_negative("units", units)
    predictions = _non_negative("predictions", predictions)
    c1k = _non_negative("cost_per_1k_predictions", cost_per_1k_predictions)
    fixed = _non_negative("fixed_cost_per_month", fixed_cost_per_month)
    compute = _non_negative("compute_cost", compute_cost)
    if not (math.isfinite(period_s) and period_s > 0):
        raise ValueError(f"period_s must be > 0, got {period_s!r}")
    cost = predictions / 1000.0 * c1k + fixed * period_s / MONTH_S + compute
    value = lift_absolute * units if math.isfinite(lift_absolute) else math.nan
    if lift_ci is not None and not lift_ci.is_nan:
        ci = ConfidenceInterval(lift_ci.low * units, lift_ci.high * units, lift_ci.level)
    else:
        ci = nan_ci(lift_ci.level if lift_ci is not None else 0.95)
    net = value - cost
    if not lift_significant:
        return Roi(value, ci, cost, math.nan, math.nan, units, predictions, claimed=False)
    if cost <= 0:
        warn_degenerate("ROI is undefined without costs (configure roi.cost_per_1k_predictions etc.)")
        pct = math.nan
    else:
        pct = 100.0 * net / cost
    return Roi(value, ci, cost, net, pct, units, predictions)


def kpi_table(kpis: Mapping[str, tuple[ArrayLike, ArrayLike]], rollout: float) -> list[KpiRow]:
    """Pre/post table: ``kpis`` maps a KPI name to ``(bucket_times, values)``; times in the same
    unit as ``rollout`` (e.g. epoch seconds). Buckets at or after ``rollout`` count as post."""
    rows = []
    for name, (times, values) in kpis.items():
        ts, v = (
            as_float_array(times, f"kpis[{name!r}] times"),
            as_float_array(values, f"kpis[{name!r}] values"),
        )
        if ts.size != v.size:
            raise ValueError(f"kpis[{name!r}]: times and values differ in length ({ts.size} vs {v.size})")
        ok = np.isfinite(v)
        pre, post = v[ok & (ts < rollout)], v[ok & (ts >= rollout)]
        mpre = float(pre.mean()) if pre.size else math.nan
        mpost = float(post.mean()) if post.size else math.nan
        if pre.size == 0 or post.size == 0:
            warn_degenerate(f"KPI {name!r} has no buckets on one side of the rollout")
        change = mpost - mpre
        pct = 100.0 * change / mpre if math.isfinite(mpre) and mpre != 0.0 else math.nan
        _, _, p = welch_t(post, pre)
        rows.append(KpiRow(name, mpre, mpost, change, pct, p, int(pre.size), int(post.size)))
    return rows


__all__ = ["MONTH_S", "KpiRow", "Roi", "kpi_table", "roi"]
