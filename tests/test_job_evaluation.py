"""Evaluation matrix: the decision table, threshold directions, online values from the result."""

from __future__ import annotations

import pytest
from results import recorded_result

from otel_impact.config.job import EvaluationFeature, OfflineMetric, OnlineMetric
from otel_impact.evaluation import decide, evaluate, online_value, passes
from otel_impact.records import Result, Series


@pytest.mark.parametrize(
    ("off", "on", "want"),
    [(True, True, "ship"), (True, False, "iterate_ux"), (False, True, "fix_model"), (False, False, "both"),
     (None, True, "needs_data"), (True, None, "needs_data")],
)  # fmt: skip
def test_decision_table(off: bool | None, on: bool | None, want: str) -> None:
    assert decide(off, on) == want


def test_passes_direction_and_missing() -> None:
    assert passes(0.8, 0.8, True) and not passes(0.79, 0.8, True)
    assert passes(0.1, 0.2, False) and not passes(0.3, 0.2, False)
    assert passes(None, 0.2, True) is None and passes(float("nan"), 0.2, True) is None


def _result() -> Result:
    """The recorded demo result with a ``ctr`` series per segment and a purchase lift of 0.04."""
    base = recorded_result()
    times = base.series[0].buckets[:4]
    ctr = [
        Series(name="ctr", kind="business", segment={"platform": "ios"}, buckets=times[:1], values=[9.0]),
        Series(name="ctr", kind="business", segment={}, buckets=times, values=[0.1, None, 0.3, float("nan")]),
    ]
    overall = next(lift for lift in base.lift if lift.metric == "purchase" and not lift.segment)
    lift = [overall.model_copy(update={"estimate": 0.04})]
    return base.model_copy(update={"series": ctr, "lift": lift})


RESULT = _result()


@pytest.mark.parametrize(("stat", "want"), [("mean", 0.2), ("last", 0.3), ("sum", 0.4)])
def test_online_series_stats_use_all_users_series_and_skip_gaps(stat: str, want: float) -> None:
    assert online_value(OnlineMetric(series="ctr", stat=stat, threshold=0), RESULT) == pytest.approx(want)


def test_online_missing_is_none() -> None:
    assert online_value(OnlineMetric(series="nope", threshold=0), RESULT) is None
    assert online_value(OnlineMetric(lift="signup", threshold=0), RESULT) is None
    assert online_value(OnlineMetric(lift="purchase", threshold=0), RESULT) == 0.04


def test_evaluate_rows() -> None:
    features = [
        EvaluationFeature(name="a", offline=OfflineMetric(name="auc", value=0.9, threshold=0.8),
                          online=OnlineMetric(lift="purchase", threshold=0.05)),
        EvaluationFeature(name="b", offline=OfflineMetric(name="loss", sql="SELECT 1", threshold=0.5,
                                                          higher_is_better=False),
                          online=OnlineMetric(series="ctr", threshold=0.1)),
        EvaluationFeature(name="c", offline=OfflineMetric(name="auc", sql="SELECT 1", threshold=0.5),
                          online=OnlineMetric(series="ctr", threshold=0.1)),
    ]  # fmt: skip
    rows = {r.feature: r for r in evaluate(features, RESULT, {"b": 0.7})}
    assert rows["a"].decision == "iterate_ux" and rows["a"].action == "iterate on UX"
    assert rows["b"].decision == "fix_model" and rows["b"].offline.value == 0.7
    assert rows["c"].decision == "needs_data" and rows["c"].offline.value is None
