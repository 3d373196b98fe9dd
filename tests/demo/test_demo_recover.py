"""Reading the analyzer's result back into the planted vs recovered table."""

from __future__ import annotations

from datetime import UTC, datetime

from otel_impact import semconv
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

PARAMS = WorldParams(users=100, days=30, start=datetime(2026, 10, 1, tzinfo=UTC))
DAY = 86400.0


def _corr(lag_days: int, estimate: float, segment: dict | None = None, method: str = "pearson") -> dict:
    return {
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


def _rollout(
    market: str, est: float = 0.24, lo: float = 0.1, hi: float = 0.4, verdict: str = "effect"
) -> dict:
    return {
        "metric": "purchase",
        "segment": {"market": market},
        "method": "synthetic_control",
        "estimate": est,
        "ci": [lo, hi],
        "verdict_kind": verdict,
        "preferred": True,
    }


def _lift(tenure: str | None, est: float, lo: float, hi: float) -> dict:
    return {
        "metric": "purchase",
        "segment": {"tenure": tenure} if tenure else {},
        "estimate": est,
        "ci": [lo, hi],
        "pvalue": 0.01,
        "method": "welch",
        "n": 500,
    }


def _breakdown(
    at: str, model_metric: str = "mean_score", state: str = "firing", segment: str | None = None
) -> dict:
    attrs = {semconv.IMPACT_MODEL_METRIC: model_metric, semconv.IMPACT_BUSINESS_METRIC: "purchase"}
    if segment:
        attrs |= {semconv.IMPACT_SEGMENT_KEY: "tenure", semconv.IMPACT_SEGMENT_VALUE: segment}
    return {"rule": "correlation_breakdown", "state": state, "at": at, "message": "m", "attributes": attrs}


def full_result() -> dict:
    return {
        "window": {"start": "2026-10-01T00:00:00Z", "end": "2026-10-31T00:00:00Z"},
        "correlations": [
            _corr(2, 0.6),
            _corr(1, 0.3, method="spearman"),
            _corr(3, 0.9, segment={"tenure": "power"}),  # per-segment rows do not decide the lag
        ],
        "segment_ranking": [
            {
                "model_metric": "mean_score",
                "business_metric": "purchase",
                "segment": {"tenure": "power"},
                "rank": 1,
            },
            {"model_metric": "mean_score", "business_metric": "purchase", "segment": {"platform": "mobile"}},
            {
                "model_metric": "mean_score",
                "business_metric": "purchase",
                "segment": {"tenure": "new"},
                "rank": 3,
            },
            {"model_metric": "mean_score", "business_metric": "purchase", "segment": {"tenure": "casual"}},
        ],
        "lift": [
            _lift(None, 0.1, 0.05, 0.15),
            _lift("power", 0.3, 0.2, 0.4),
            _lift("casual", 0.02, -0.1, 0.12),
            _lift("new", 0.12, -0.05, 0.3),
        ],
        "alerts": [
            _breakdown("2026-10-05T00:00:00Z", model_metric="auc"),  # another pair: ignored
            _breakdown("2026-10-22T00:00:00Z", segment="new"),
            _breakdown("2026-10-23T00:00:00Z"),
            _breakdown("2026-10-21T00:00:00Z", state="resolved"),  # a recovery is not a breakdown
            {"rule": "drift", "at": "2026-10-02T00:00:00Z"},
        ],
        "rollout_impact": {"effects": [_rollout(m) for m in ("de", "fr", "es")]},
        "incidents": [
            {"anomaly": {"metric": "auc", "start": "2026-10-20T00:00:00Z"}, "linked": []},
            {
                "anomaly": {"metric": "auc", "start": "2026-10-14T00:00:00Z"},
                "linked": [
                    {"pipeline.name": "features_daily", "change": "schema_change", "status": "success"}
                ],
            },
        ],
    }


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
    doc = full_result()
    doc["correlations"] = [_corr(4, 0.5)]
    doc["lift"] = [_lift("power", 0.3, -0.1, 0.7), _lift("casual", 0.2, 0.1, 0.3)]
    doc["alerts"] = [_breakdown("2026-10-28T00:00:00Z")]
    doc["incidents"] = [
        {
            "anomaly": {"metric": "auc", "start": "2026-10-14T00:00:00Z"},
            "linked": [{"pipeline.name": "crm_sync", "status": "failed"}],
        }
    ]
    doc["lift"].append(_lift("new", 0.3, 0.2, 0.4))  # planted +10 %: detected, size off
    doc["rollout_impact"] = {"effects": [_rollout("de", 0.1, -0.05, 0.25), _rollout("fr", verdict="refused")]}
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
    rows = compare(recover({"window": {}, "stitching": []}), PARAMS)
    assert {r.verdict for r in rows} == {UNAVAILABLE}
    rows = compare(
        recover(
            {
                "correlations": [],
                "lift": [],
                "incidents": [],
                "alerts": [],
                "segment_ranking": [],
                "rollout_impact": {"effects": []},
            }
        ),
        PARAMS,
    )
    assert UNAVAILABLE not in {r.verdict for r in rows}
    assert {r.recovered for r in rows} >= {"none"}


def test_null_and_malformed_values_do_not_crash():
    doc = {
        "correlations": [
            {"model_metric": "mean_score", "business_metric": "purchase", "segment": {}, "lag_s": None}
        ],
        "lift": [
            {"metric": "purchase", "segment": {"tenure": "power"}, "estimate": None, "ci": [None, None]}
        ],
        "alerts": [{"rule": "correlation_breakdown", "at": "not a time"}],
        "incidents": [{"anomaly": None, "linked": None}, "junk"],
        "segment_ranking": "junk",
    }
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
