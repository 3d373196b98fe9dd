"""Reading the analyzer's result back into the planted vs recovered table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from results import recorded, recorded_result

from otel_impact import semconv
from otel_impact.context import parse_iso
from otel_impact.demo.recover import (
    MISSED,
    RECOVERED,
    SIGN_ONLY,
    UNAVAILABLE,
    compare,
    recover,
    table_lines,
    table_markdown,
)
from otel_impact.demo.world import WorldParams
from otel_impact.records import Alert, Correlation, Incident, Lift, Result, RolloutEffect, SegmentRank

PARAMS = WorldParams(users=100, days=30, start=datetime(2026, 10, 1, tzinfo=UTC))
DAY = 86400.0
RECORDED = recorded_result()  # each test row is one of its rows with the fields under test replaced
assert RECORDED.rollout_impact is not None


def _only(**sections: Any) -> Result:
    """The recorded result's window with only ``sections`` (the analyzer produced no other)."""
    return Result.from_json({"window": recorded()["window"]}).model_copy(update=sections)


def _corr(
    lag_days: int, estimate: float, segment: dict | None = None, method: str = "pearson"
) -> Correlation:
    return RECORDED.correlations[0].model_copy(
        update={
            "model_metric": "mean_score",
            "business_metric": "purchase",
            "segment": segment or {},
            "lag_s": lag_days * DAY,
            "method": method,
            "estimate": estimate,
            "ci": [estimate - 0.2, estimate + 0.2],
            "pvalue": 0.01,
            "n": 28,
        }
    )


def _rank(segment: dict[str, str], rank: int) -> SegmentRank:
    return RECORDED.segment_ranking[0].model_copy(
        update={"model_metric": "mean_score", "business_metric": "purchase", "segment": segment, "rank": rank}
    )


def _rollout(
    market: str, est: float = 0.24, lo: float = 0.1, hi: float = 0.4, verdict: str = "effect"
) -> RolloutEffect:
    assert RECORDED.rollout_impact is not None
    return RECORDED.rollout_impact.effects[0].model_copy(
        update={
            "metric": "purchase",
            "segment": {"market": market},
            "method": "synthetic_control",
            "estimate": est,
            "ci": [lo, hi],
            "verdict_kind": verdict,
            "preferred": True,
        }
    )


def _lift(tenure: str | None, est: float, lo: float, hi: float) -> Lift:
    return RECORDED.lift[0].model_copy(
        update={
            "metric": "purchase",
            "segment": {"tenure": tenure} if tenure else {},
            "estimate": est,
            "ci": [lo, hi],
            "pvalue": 0.01,
            "method": "welch",
            "n": 500,
        }
    )


def _breakdown(
    at: str, model_metric: str = "mean_score", state: str = "firing", segment: str | None = None
) -> Alert:
    attrs = {semconv.IMPACT_MODEL_METRIC: model_metric, semconv.IMPACT_BUSINESS_METRIC: "purchase"}
    if segment:
        attrs |= {semconv.IMPACT_SEGMENT_KEY: "tenure", semconv.IMPACT_SEGMENT_VALUE: segment}
    return RECORDED.alerts[0].model_copy(
        update={
            "rule": "correlation_breakdown",
            "state": state,
            "at": parse_iso(at),
            "message": "m",
            "attributes": attrs,
        }
    )


def _incident(start: str, **cause: str) -> Incident:
    """An AUC incident starting at ``start``, linked to an upstream event with ``cause`` (unlinked
    when no ``cause`` is given)."""
    inc = RECORDED.incidents[0]
    anomaly = inc.anomaly.model_copy(update={"metric": "auc", "start": parse_iso(start)})
    base = inc.linked[0].model_copy(update={"change": "", "status": ""})
    linked = [base.model_copy(update=cause)] if cause else []
    return inc.model_copy(update={"anomaly": anomaly, "linked": linked})


def full_result() -> Result:
    drift = RECORDED.alerts[0].model_copy(
        update={"rule": "drift", "state": "firing", "at": parse_iso("2026-10-02T00:00:00Z"), "attributes": {}}
    )
    return _only(
        correlations=[
            _corr(2, 0.6),
            _corr(1, 0.3, method="spearman"),
            _corr(3, 0.9, segment={"tenure": "power"}),  # per-segment rows do not decide the lag
        ],
        segment_ranking=[
            _rank({"tenure": "power"}, 1),
            _rank({"platform": "mobile"}, 2),
            _rank({"tenure": "new"}, 3),
            _rank({"tenure": "casual"}, 4),
        ],
        lift=[
            _lift(None, 0.1, 0.05, 0.15),
            _lift("power", 0.3, 0.2, 0.4),
            _lift("casual", 0.02, -0.1, 0.12),
            _lift("new", 0.12, -0.05, 0.3),
        ],
        alerts=[
            _breakdown("2026-10-05T00:00:00Z", model_metric="auc"),  # another pair: ignored
            _breakdown("2026-10-22T00:00:00Z", segment="new"),
            _breakdown("2026-10-23T00:00:00Z"),
            _breakdown("2026-10-21T00:00:00Z", state="resolved"),  # a recovery is not a breakdown
            drift,
        ],
        rollout_impact=RECORDED.rollout_impact.model_copy(
            update={"effects": [_rollout(m) for m in ("de", "fr", "es")]}
        ),
        incidents=[
            _incident("2026-10-20T00:00:00Z"),
            _incident(
                "2026-10-14T00:00:00Z", pipeline="features_daily", change="schema_change", status="success"
            ),
        ],
    )


def test_recover_reads_every_section():
    rec = recover(full_result())
    assert rec.lag_days == 2 and rec.lag_estimate == 0.6
    assert rec.tenure_order == ("power", "new", "casual")
    assert rec.lift["power"].excludes_zero and not rec.lift["casual"].excludes_zero
    assert rec.lift["all users"].estimate == 0.1
    assert rec.breakdown_at == datetime(2026, 10, 22, tzinfo=UTC)
    assert rec.incident is not None and rec.incident.cause is not None
    assert rec.incident.start == datetime(2026, 10, 14, tzinfo=UTC)  # the linked one wins


def test_compare_marks_all_planted_effects_recovered():
    rows = compare(recover(full_result()), PARAMS)
    assert [r.verdict for r in rows] == [RECOVERED] * len(rows)
    assert len(rows) == 11


def test_wrong_findings_are_reported_as_missed():
    assert RECORDED.rollout_impact is not None
    doc = full_result().model_copy(
        update={
            "correlations": [_corr(4, 0.5)],
            "lift": [
                _lift("power", 0.3, -0.1, 0.7),
                _lift("casual", 0.2, 0.1, 0.3),
                _lift("new", 0.3, 0.2, 0.4),  # planted +10 %: detected, size off
            ],
            "alerts": [_breakdown("2026-10-28T00:00:00Z")],
            "incidents": [_incident("2026-10-14T00:00:00Z", pipeline="crm_sync", status="failed")],
            "rollout_impact": RECORDED.rollout_impact.model_copy(
                update={"effects": [_rollout("de", 0.1, -0.05, 0.25), _rollout("fr", verdict="refused")]}
            ),
        }
    )
    rows = {r.effect: r for r in compare(recover(doc), PARAMS)}
    assert rows["v2 lift, tenure=new"].verdict == SIGN_ONLY and not rows["v2 lift, tenure=new"].ok
    assert rows["CTR → purchase lag"].verdict == MISSED
    assert rows["v2 lift, tenure=power"].verdict == MISSED  # CI includes 0
    assert rows["v2 lift, tenure=casual"].verdict == MISSED  # CI excludes 0 for a ~0 plant
    assert rows["model↔business breakdown"].verdict == MISSED  # 8 days late
    assert rows["incident linked cause"].verdict == MISSED
    assert rows["AUC drop (incident)"].verdict == RECOVERED
    assert rows["checkout widget (no A/B), market=de"].verdict == MISSED  # CI includes 0
    assert rows["checkout widget (no A/B), market=fr"].recovered.startswith("refused")
    assert rows["checkout widget (no A/B), market=es"].recovered == "none"


def test_missing_sections_are_stage_unavailable_not_errors():
    rows = compare(recover(_only(stitching=[])), PARAMS)
    assert {r.verdict for r in rows} == {UNAVAILABLE}
    assert RECORDED.rollout_impact is not None
    empty = RECORDED.rollout_impact.model_copy(update={"effects": []})
    rows = compare(
        recover(
            _only(correlations=[], lift=[], incidents=[], alerts=[], segment_ranking=[], rollout_impact=empty)
        ),
        PARAMS,
    )
    assert UNAVAILABLE not in {r.verdict for r in rows}
    assert {r.recovered for r in rows} >= {"none"}


def test_null_and_malformed_values_do_not_crash():
    # undefined numbers are None in the records; malformed sections (a time that is not one, a
    # non-list section) are refused where the Result is read, so they never reach recover()
    lag = _corr(2, 0.6).model_copy(update={"lag_s": None, "estimate": None})
    lift = _lift("power", 0.0, 0.0, 0.0).model_copy(update={"estimate": None, "ci": [None, None]})
    doc = _only(correlations=[lag], lift=[lift], alerts=[], incidents=[], segment_ranking=[])
    rec = recover(doc)
    assert rec.lag_days is None and rec.breakdown_at is None
    assert rec.lift["power"].estimate is None and not rec.lift["power"].excludes_zero
    rows = compare(rec, PARAMS)
    assert all(r.verdict in (MISSED, UNAVAILABLE) for r in rows)


def test_tables_render_every_row():
    rows = compare(recover(full_result()), PARAMS)
    text = table_lines(rows)
    assert len(text) == len(rows) + 2 and "planted" in text[0]
    md = table_markdown(rows)
    assert md[0].startswith("| effect") and len(md) == len(rows) + 2
