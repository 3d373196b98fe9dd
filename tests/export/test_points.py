"""Result document → impact.* points and events: names, attributes, explicit timestamps."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from results import RECORDED_WINDOW as WINDOW
from results import recorded, recorded_llm, recorded_llm_result, recorded_result

from otel_impact import semconv as sc
from otel_impact.errors import AnalysisError
from otel_impact.export.points import (
    METRICS,
    bucket_ends,
    parse_time,
    result_events,
    result_points,
    segment_attrs,
    to_ns,
)
from otel_impact.records import Result

END_NS = to_ns(WINDOW["end"])


def by_name(points: list, name: str) -> list:
    return [p for p in points if p.name == name]


def test_cost_rows_become_impact_cost_points() -> None:
    doc = recorded_llm()
    rows = doc["cost"]
    assert rows, "the recorded LLM result has cost rows"
    points = result_points(Result.from_json(doc), run_id="r")
    per_outcome = by_name(points, sc.METRIC_IMPACT_COST_PER_OUTCOME)
    assert [p.value for p in per_outcome] == [
        r["cost_per_outcome"] for r in rows if r["cost_per_outcome"] is not None
    ]
    first = per_outcome[0].attributes
    assert first[sc.IMPACT_BUSINESS_METRIC] == rows[0]["business_metric"]
    assert first[sc.ML_MODEL_NAME] == rows[0][sc.ML_MODEL_NAME]
    assert first[sc.IMPACT_SEGMENT_KEY] == "all" and rows[0]["segment"] == {}
    assert [p.value for p in by_name(points, sc.METRIC_IMPACT_COST_TOTAL)] == [r["cost"] for r in rows]
    tokens = [
        (p.attributes[sc.IMPACT_COST_TOKEN_TYPE], p.value)
        for p in by_name(points, sc.METRIC_IMPACT_COST_TOKENS)
        if p.attributes == {**first, sc.IMPACT_COST_TOKEN_TYPE: p.attributes[sc.IMPACT_COST_TOKEN_TYPE]}
    ]
    assert dict(tokens) == {t: rows[0][f"{t}_tokens"] for t in ("input", "output", "cached_input")}
    rows[0]["cost_per_value"] = None  # null is skipped, not exported as 0
    assert (
        len(by_name(result_points(Result.from_json(doc), run_id="r"), sc.METRIC_IMPACT_COST_PER_VALUE))
        == len(rows) - 1
    )


def test_every_exported_name_is_documented_with_a_unit() -> None:
    points = result_points(recorded_result(), run_id="r") + result_points(recorded_llm_result(), run_id="r")
    names = {p.name for p in points}
    assert names <= set(METRICS)
    assert all(n.startswith(sc.IMPACT_PREFIX) for n in names)
    assert names == set(METRICS)  # the recorded runs exercise every metric
    assert by_name(points, sc.METRIC_IMPACT_ROI)[0].unit == "%"
    assert by_name(points, sc.METRIC_IMPACT_BEST_LAG)[0].unit == "s"


def test_window_level_points_are_stamped_at_window_end_and_carry_run_and_window() -> None:
    doc = recorded()
    points = result_points(Result.from_json(doc), run_id="run-1")
    for p in points:
        assert p.attributes[sc.IMPACT_RUN_ID] == "run-1"
        assert p.attributes[sc.IMPACT_WINDOW_START] == WINDOW["start"]
        assert p.attributes[sc.IMPACT_WINDOW_END] == WINDOW["end"]
        if p.name != sc.METRIC_IMPACT_SERIES:
            assert p.time_unix_nano == END_NS
    lift = by_name(points, sc.METRIC_IMPACT_LIFT)
    assert [p.value for p in lift] == [r["estimate"] for r in doc["lift"] if r["estimate"] is not None]
    row, point = doc["lift"][0], lift[0]
    assert point.attributes[sc.IMPACT_TREATMENT] == ",".join(f"{k}={v}" for k, v in row["treatment"].items())
    assert point.attributes[sc.IMPACT_CONTROL] == ",".join(f"{k}={v}" for k, v in row["control"].items())
    assert by_name(points, sc.METRIC_IMPACT_LIFT_CI_LOW)[0].value == row["ci"][0]
    slopes = [p.value for p in by_name(points, sc.METRIC_IMPACT_TRANSFER_SLOPE)]
    assert slopes == [r["estimate"] for r in doc["transfer"] if r["estimate"] is not None]


def test_null_estimates_are_skipped_not_exported_as_zero() -> None:
    doc = recorded()
    doc["correlations"][0]["estimate"] = None
    seg = segment_attrs(doc["correlations"][0]["segment"])
    points = result_points(Result.from_json(doc), run_id="r")
    corr = [p for p in by_name(points, sc.METRIC_IMPACT_CORRELATION) if seg.items() <= p.attributes.items()]
    assert (
        len(corr)
        == len([r for r in doc["correlations"] if r["segment"] == doc["correlations"][0]["segment"]]) - 1
    )
    assert not any(math.isnan(p.value) for p in points)


def test_best_lag_is_the_lag_with_largest_absolute_correlation() -> None:
    doc = recorded()
    first = doc["correlations"][0]
    same = [r for r in doc["correlations"]
            if (r["model_metric"], r["business_metric"], r["segment"]) == (first["model_metric"], first["business_metric"], first["segment"])]  # fmt: skip
    strongest = max(same, key=lambda r: abs(r["estimate"]))
    lags = by_name(result_points(Result.from_json(doc), run_id="r"), sc.METRIC_IMPACT_BEST_LAG)
    mine = [p for p in lags if p.attributes[sc.IMPACT_MODEL_METRIC] == first["model_metric"]
            and p.attributes[sc.IMPACT_BUSINESS_METRIC] == first["business_metric"]
            and p.attributes[sc.IMPACT_SEGMENT_KEY] == "all"]  # fmt: skip
    assert [p.value for p in mine] == [strongest["lag_s"]]
    weakest = min(same, key=lambda r: abs(r["estimate"]))
    weakest["estimate"] = -2.0  # now the strongest (by magnitude)
    lags = by_name(result_points(Result.from_json(doc), run_id="r"), sc.METRIC_IMPACT_BEST_LAG)
    mine = [p for p in lags if p.attributes[sc.IMPACT_MODEL_METRIC] == first["model_metric"]
            and p.attributes[sc.IMPACT_BUSINESS_METRIC] == first["business_metric"]
            and p.attributes[sc.IMPACT_SEGMENT_KEY] == "all"]  # fmt: skip
    assert [p.value for p in mine] == [weakest["lag_s"]]


def test_series_points_at_bucket_ends() -> None:
    doc = recorded()
    series = doc["series"][0]
    pts = [p for p in result_points(Result.from_json({"window": WINDOW, "series": [series]}), run_id="r")]
    finite = [i for i, v in enumerate(series["values"]) if v is not None and not math.isnan(v)]
    starts = [to_ns(b) for b in series["buckets"]]
    ends = [*starts[1:], END_NS]  # each bucket closes where the next one opens; the last at the window end
    assert [p.time_unix_nano for p in pts] == [ends[i] for i in finite]
    assert [p.value for p in pts] == [series["values"][i] for i in finite]
    assert pts[0].attributes[sc.IMPACT_SERIES_KIND] == series["kind"]
    assert pts[0].attributes[sc.IMPACT_SERIES_NAME] == series["name"]


def test_bucket_ends_single_bucket_closes_at_window_end() -> None:
    assert bucket_ends([datetime(2026, 11, 4, tzinfo=UTC)], END_NS) == [END_NS]
    assert bucket_ends([], END_NS) == []


def test_segment_attrs_all_users_and_multi_key() -> None:
    assert segment_attrs({}) == {sc.IMPACT_SEGMENT_KEY: "all", sc.IMPACT_SEGMENT_VALUE: "all"}
    multi = segment_attrs({"platform": "ios", "country": "DE"})
    assert multi[sc.IMPACT_SEGMENT_KEY] == "country,platform"
    assert multi[sc.IMPACT_SEGMENT_VALUE] == "DE,ios"


def test_events_alert_and_incident_with_their_own_timestamps() -> None:
    doc = recorded()
    events = result_events(Result.from_json(doc), run_id="r")
    alerts = [e for e in events if e.name == sc.EVENT_IMPACT_ALERT]
    (incident,) = [e for e in events if e.name == sc.EVENT_IMPACT_INCIDENT]
    assert [e.time_unix_nano for e in alerts] == [to_ns(a["at"]) for a in doc["alerts"]]
    assert [e.attributes[sc.IMPACT_ALERT_RULE] for e in alerts] == [a["rule"] for a in doc["alerts"]]
    assert [e.body for e in alerts] == [a["message"] for a in doc["alerts"]]
    severity = {"critical": "ERROR", "warning": "WARN", "info": "INFO"}
    assert [e.severity for e in alerts] == [severity[a["severity"]] for a in doc["alerts"]]
    first = doc["alerts"][0]
    assert all(alerts[0].attributes[k] == v for k, v in first["attributes"].items())
    (row,) = doc["incidents"]
    assert incident.time_unix_nano == to_ns(row["anomaly"]["end"])
    assert row["linked"] and row["linked"][0][sc.PIPELINE_NAME] in incident.body
    assert incident.attributes[sc.IMPACT_INCIDENT_MAGNITUDE] == row["anomaly"]["magnitude"]


def test_empty_sections_give_nothing_and_malformed_documents_never_reach_the_export() -> None:
    empty = Result(window=recorded_result().window)
    assert result_points(empty, run_id="r") == []
    assert result_events(empty, run_id="r") == []
    # a document without a window, an incomplete alert or a section of the wrong type is
    # rejected where the result is read, so the export only ever sees whole records
    for doc in ({}, {"window": WINDOW, "alerts": [{"rule": "x"}]}, {"window": WINDOW, "lift": "not a list"}):
        with pytest.raises(AnalysisError):
            Result.from_json(doc)


def test_parse_time_validation() -> None:
    assert parse_time("2026-11-01T00:00:00") == datetime(2026, 11, 1, tzinfo=UTC)
    assert to_ns("1970-01-01T00:00:01.5Z") == 1_500_000_000
    with pytest.raises(ValueError):
        parse_time(12)
