"""The effects the demo plants, as one frozen record the report compares against.

:class:`PlantedTruth` is both the simulator's input (the numbers that shape the simulated world)
and the left column of the demo's *planted vs recovered* table. Day numbers count from 0 = the
first simulated day.

>>> t = PlantedTruth()
>>> t.lag_days, t.breakdown_day, t.schema_change_day
(2, 20, 12)
>>> t.expected_tenure_order()
('power', 'new', 'casual')
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlantedTruth:
    """Planted effects of the demo world."""

    # model quality → CTR → purchases
    base_ctr: float = 0.12
    ctr_spread: float = 0.5  # sd of log CTR from day to day
    lag_days: int = 2  # purchases follow CTR this many days later
    # per tenure (power, casual, new): sensitivity of purchases to relative CTR
    sensitivity: tuple[float, float, float] = (1.6, 0.25, 0.8)
    breakdown_day: int = 20  # from this day an external shock drives purchases, not CTR
    flip_days: int = 3  # days the shock makes purchases move opposite to CTR, then independent
    shock_level: float = 1.0  # purchase multiplier level under the shock
    # A/B rollout of v2: relative purchase lift per tenure (power, casual, new)
    rollout_day: int = 3
    lift: tuple[float, float, float] = (0.30, 0.01, 0.10)
    # scores: informativeness of the model before / after the schema change
    relevance_weight: float = 1.5
    informativeness_before: float = 0.95  # correlation of the score's view with true relevance
    informativeness_after: float = 0.35
    # upstream lineage and the planted incident
    model: str = "ranker"
    pipeline: str = "features_daily"
    dataset: str = "clicks"
    feature: str = "user_ctr"
    schema_change_day: int = 12  # the schema-change run; scores degrade from the next day
    schema_change_kind: str = "schema_change"
    unrelated_pipeline: str = "crm_sync"
    unrelated_dataset: str = "crm_contacts"
    unrelated_failure_day: int = 12
    sampled_ratio: float = 0.5  # the sampling replica's TraceIdRatioBased ratio
    # a checkout widget launched market by market, with no A/B arm: relative purchase lift in a
    # market from its launch day on (markets not listed never get it: the synthetic control's donors)
    widget: str = "checkout widget"
    widget_markets: tuple[str, ...] = ("de", "fr", "es")
    widget_days: tuple[int, ...] = (9, 14, 19)
    widget_lift: float = 0.25

    def __post_init__(self) -> None:
        if self.lag_days < 0:
            raise ValueError(f"lag_days must be >= 0, got {self.lag_days}")
        if not 0 < self.sampled_ratio <= 1:
            raise ValueError(f"sampled_ratio must be in (0, 1], got {self.sampled_ratio}")
        if len(self.widget_markets) != len(self.widget_days):
            raise ValueError("widget_markets and widget_days must have the same length")
        if not 0 < self.base_ctr < 1:
            raise ValueError(f"base_ctr must be in (0, 1), got {self.base_ctr}")

    @property
    def degradation_day(self) -> int:
        """First day whose scores are degraded by the schema change."""
        return self.schema_change_day + 1

    def lift_for(self, tenure: str) -> float:
        """Planted relative purchase lift of v2 over v1 for a tenure segment."""
        return self.lift[("power", "casual", "new").index(tenure)]

    def expected_tenure_order(self) -> tuple[str, ...]:
        """Tenure segments ordered by planted CTR→purchase sensitivity, strongest first."""
        names = ("power", "casual", "new")
        order = sorted(range(3), key=lambda i: -self.sensitivity[i])
        return tuple(names[i] for i in order)
