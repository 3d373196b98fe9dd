"""Result document → impact.* points and events: names, attributes, explicit timestamps."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from results import WINDOW, full_result

from otel_impact import semconv as sc
from otel_impact.export.points import (
    METRICS,
    bucket_ends,
    parse_time,
    result_events,
    result_points,
    segment_attrs,
    to_ns,
)

END_NS = to_ns(WINDOW["end"])
COST_ROW = {  # one row of result["cost"] (stages/llm.py)
    "business_metric": "purchase",
    sc.ML_MODEL_NAME: "gpt-4o-mini",
    sc.ML_MODEL_VERSION: "support-v2",
    "segment": {"platform": "web"},
    "input_tokens": 1000.0,
    "output_tokens": 500.0,
    "cached_input_tokens": 0.0,
    "cost": 0.45,
    "attribution_model": "last_touch",
    "cost_per_outcome": 0.15,
    "cost_per_value": None,
}


def test_cost_rows_become_impact_cost_points() -> None:
    points = result_points({"window": WINDOW, "cost": [COST_ROW]}, run_id="r")
    per_outcome = by_name(points, sc.METRIC_IMPACT_COST_PER_OUTCOME)
    assert [p.value for p in per_outcome] == [0.15]
    assert per_outcome[0].attributes[sc.ML_MODEL_VERSION] == "support-v2"
    assert per_outcome[0].attributes[sc.IMPACT_BUSINESS_METRIC] == "purchase"
    assert per_outcome[0].attributes[sc.IMPACT_SEGMENT_KEY] == "platform"
    assert [p.value for p in by_name(points, sc.METRIC_IMPACT_COST_TOTAL)] == [0.45]
    assert by_name(points, sc.METRIC_IMPACT_COST_PER_VALUE) == []  # null is skipped, not 0
    tokens = {
        p.attributes[sc.IMPACT_COST_TOKEN_TYPE]: p.value
        for p in by_name(points, sc.METRIC_IMPACT_COST_TOKENS)
    }
    assert tokens == {"input": 1000.0, "output": 500.0, "cached_input": 0.0}


def by_name(points: list, name: str) -> list:
    return [p for p in points if p.name == name]


def test_every_exported_name_is_documented_with_a_unit() -> None:
    points = result_points(full_result() | {"evaluation": [{"feature": "f", "decision": "ship",
                                                           "offline": {"value": 1}, "online": {"value": 2}}],
                                            "cost": [COST_ROW | {"cost_per_value": 0.01}]},
                           run_id="r")  # fmt: skip
    names = {p.name for p in points}
    assert names <= set(METRICS)
    assert all(n.startswith(sc.IMPACT_PREFIX) for n in names)
    assert len(names) == len(METRICS)  # the full result exercises every metric
    assert by_name(points, sc.METRIC_IMPACT_ROI)[0].unit == "%"
    assert by_name(points, sc.METRIC_IMPACT_BEST_LAG)[0].unit == "s"


def test_window_level_points_are_stamped_at_window_end_and_carry_run_and_window() -> None:
    points = result_points(full_result(), run_id="run-1")
    for p in points:
        assert p.attributes[sc.IMPACT_RUN_ID] == "run-1"
        assert p.attributes[sc.IMPACT_WINDOW_START] == WINDOW["start"]
        assert p.attributes[sc.IMPACT_WINDOW_END] == WINDOW["end"]
        if p.name != sc.METRIC_IMPACT_SERIES:
            assert p.time_unix_nano == END_NS
    lift = by_name(points, sc.METRIC_IMPACT_LIFT)[0]
    assert lift.value == pytest.approx(0.062)
    assert lift.attributes[sc.IMPACT_TREATMENT] == "ml.model.version=2"
    assert lift.attributes[sc.IMPACT_CONTROL] == "ml.model.version=1"
    assert [p.value for p in by_name(points, sc.METRIC_IMPACT_LIFT_CI_LOW)] == [pytest.approx(0.021)]
    assert [p.value for p in by_name(points, sc.METRIC_IMPACT_TRANSFER_SLOPE)] == [310.0]
    values = sorted(p.value for p in by_name(points, sc.METRIC_IMPACT_ATTRIBUTED_VALUE))
    assert values == [9000.0, 21000.0, 27210.5]


def test_null_estimates_are_skipped_not_exported_as_zero() -> None:
    points = result_points(full_result(), run_id="r")
    web = [p for p in points if p.attributes.get(sc.segment_attribute("platform")) == "web"]
    assert web == []  # the web correlation had estimate None
    assert not any(math.isnan(p.value) for p in points)


def test_best_lag_is_the_lag_with_largest_absolute_correlation() -> None:
    doc = full_result()
    doc["correlations"][1]["estimate"] = -0.9  # lag 0 now strongest (by magnitude)
    lags = by_name(result_points(doc, run_id="r"), sc.METRIC_IMPACT_BEST_LAG)
    overall = [p for p in lags if p.attributes[sc.IMPACT_SEGMENT_KEY] == "all"]
    assert [p.value for p in overall] == [0.0]


def test_series_points_at_bucket_ends() -> None:
    doc = {"window": WINDOW, "series": [{"name": "s", "kind": "business", "segment": {"country": "DE"},
                                         "buckets": ["2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z"],
                                         "values": [1.0, 2.0]}]}  # fmt: skip
    pts = result_points(doc, run_id="r")
    assert [p.time_unix_nano for p in pts] == [to_ns("2026-11-02T00:00:00Z"), to_ns("2026-11-03T00:00:00Z")]
    assert pts[0].attributes[sc.segment_attribute("country")] == "DE"
    assert pts[0].attributes[sc.IMPACT_SERIES_KIND] == "business"


def test_bucket_ends_single_bucket_closes_at_window_end() -> None:
    assert bucket_ends(["2026-11-04T00:00:00Z"], END_NS) == [END_NS]
    assert bucket_ends([], END_NS) == []


def test_segment_attrs_all_users_and_multi_key() -> None:
    assert segment_attrs({}) == {sc.IMPACT_SEGMENT_KEY: "all", sc.IMPACT_SEGMENT_VALUE: "all"}
    multi = segment_attrs({"platform": "ios", "country": "DE"})
    assert multi[sc.IMPACT_SEGMENT_KEY] == "country,platform"
    assert multi[sc.IMPACT_SEGMENT_VALUE] == "DE,ios"


def test_events_alert_and_incident_with_their_own_timestamps() -> None:
    events = result_events(full_result(), run_id="r")
    alert, incident = events
    assert alert.name == sc.EVENT_IMPACT_ALERT and alert.severity == "ERROR"
    assert alert.time_unix_nano == to_ns("2026-11-03T12:00:00Z")
    assert alert.attributes[sc.IMPACT_ALERT_RULE] == "correlation_break"
    assert alert.attributes["platform"] == "ios"
    assert incident.name == sc.EVENT_IMPACT_INCIDENT
    assert incident.time_unix_nano == to_ns("2026-11-04T12:00:00Z")
    assert "features_daily" in incident.body
    assert incident.attributes[sc.IMPACT_INCIDENT_MAGNITUDE] == -3.4


def test_missing_sections_and_missing_window_give_nothing() -> None:
    assert result_points({}, run_id="r") == []
    assert result_events({"alerts": [{"rule": "x"}]}, run_id="r") == []
    assert result_points({"window": WINDOW, "lift": "not a list"}, run_id="r") == []


def test_parse_time_validation() -> None:
    assert parse_time("2026-11-01T00:00:00") == datetime(2026, 11, 1, tzinfo=UTC)
    assert to_ns("1970-01-01T00:00:01.5Z") == 1_500_000_000
    with pytest.raises(ValueError):
        parse_time(12)
