"""The rollout-impact stage end to end through the store and ``pipeline.analyze``.

Planted panels (:mod:`rollout_world`): one value per segment and day written as business events,
one prediction per segment and day carrying the segment and the model version — ``v2`` reaches
segment ``a`` on day 56 and segment ``b`` on day 78 (no A/B arm anywhere). The stage must find
both rollouts in the deployment trail, recover a planted effect, refuse to credit a shock that hit
every segment, and export ``impact.rollout.effect``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from rollout_world import SEGMENTS, panel
from scipy import stats
from series_data import BASE, DAY, insert_events, insert_predictions

from otel_impact import semconv
from otel_impact.config import config_from_dict
from otel_impact.errors import ConfigError
from otel_impact.export.points import result_points
from otel_impact.pipeline import STAGES, JobContext, Window, to_jsonable
from otel_impact.records import Result
from otel_impact.report.markdown import render_markdown
from otel_impact.report.rollout import rollout_headlines
from otel_impact.stages.rollout import run as rollout_stage
from otel_impact.stages.series import run as series_stage

DAYS, ROLLOUT_A, ROLLOUT_B = 84, 56, 78
CONFIG = {
    "business_metrics": [{"name": "revenue", "source": {"event": "business.purchase"}, "window": "1d"}],
    "segments": ["market"],
    "series": {"bucket": "1d"},
    "correlation": {"enabled": False},
    "lift": {"enabled": False},
    "alerts": {"enabled": False},
    "deployments": {"bucket": "1d"},
}
WINDOW = Window(BASE, BASE + np.timedelta64(DAYS, "D").astype(object))


def _write(client: Any, values: np.ndarray) -> None:
    preds, events = [], []
    for day in range(DAYS):
        for j, seg in enumerate(SEGMENTS):
            treated = (seg == "a" and day >= ROLLOUT_A) or (seg == "b" and day >= ROLLOUT_B)
            user = f"{seg}-shop"
            preds.append({"ts": day * DAY + 3600, "user": user, "version": "v2" if treated else "v1",
                          "pid": f"{seg}{day}", "segments": {"market": seg}})  # fmt: skip
            events.append({"ts": day * DAY + 7200, "user": user, "value": round(float(values[day, j]), 4)})
    insert_predictions(client, preds)
    insert_events(client, events)


def _run(client: Any, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The stages the rollout impact needs (the first test runs the whole pipeline)."""
    ctx = JobContext(client=client, config=config_from_dict({**CONFIG, **(extra or {})}), window=WINDOW)
    ctx.result["window"] = WINDOW.to_json()
    series_stage(ctx)
    rollout_stage(ctx)
    out = to_jsonable(ctx.result)
    assert isinstance(out, dict)
    return out


def _row(result: dict[str, Any], segment: str, method: str) -> dict[str, Any]:
    rows = [
        r
        for r in result["rollout_impact"]["effects"]
        if r["segment"] == {"market": segment} and r["method"] == method
    ]
    assert len(rows) == 1, rows
    return rows[0]


def test_planted_effect_on_one_segment_is_recovered(store: Any) -> None:
    _write(store, panel(3, effect=0.08))
    result = _run(store)
    section = result["rollout_impact"]
    (rollout,) = section["rollouts"]
    assert rollout["source"] == "deployment_trail" and rollout["version"] == "v2"
    assert rollout["starts"]["a"] == "2026-12-27T00:00:00Z"  # BASE + 56 days
    assert rollout["starts"]["b"] == "2027-01-18T00:00:00Z"  # BASE + 78 days
    sc = _row(result, "a", "synthetic_control")
    assert sc["preferred"] and sc["verdict_kind"] == "effect"
    lo, hi = sc["ci"]
    assert lo < 0.08 < hi and lo > 0
    assert set(sc["weights"]) == {"b", "c", "d", "e", "f"}  # b is a donor until its own rollout
    assert sc["n_post"] == ROLLOUT_B - ROLLOUT_A
    assert sc["assumptions"]
    its = _row(result, "a", "its_segmented_ar1")
    assert its["ci"][0] < 0.08 < its["ci"][1]
    did = _row(result, "a", "did_ar1")
    assert did["parallel_trends_ok"] in (True, False) and did["assumptions"]
    # b's own synthetic control has only the never-treated donors (a was treated before it)
    assert set(_row(result, "b", "synthetic_control")["weights"]) == {"c", "d", "e", "f"}
    record = Result.from_json(result)
    heads = rollout_headlines(record)
    assert [h.segment for h in heads] == [{}, {"market": "a"}, {"market": "b"}]
    assert heads[1].method == "synthetic_control" and heads[1].sentence.startswith(
        "ranker v2 changed revenue by +"
    )
    md = render_markdown(record)
    assert "## Rollout impact without an A/B test" in md and "parallel trends" in md
    points = [p for p in result_points(record, run_id="r") if p.name == semconv.METRIC_IMPACT_ROLLOUT_EFFECT]
    preferred = [p for p in points if p.attributes[semconv.IMPACT_ROLLOUT_PREFERRED]]
    assert {p.attributes[semconv.IMPACT_SEGMENT_VALUE] for p in preferred} == {"all", "a", "b"}
    a = next(p for p in preferred if p.attributes[semconv.IMPACT_SEGMENT_VALUE] == "a")
    assert a.value == pytest.approx(sc["estimate"])
    assert a.attributes[semconv.IMPACT_METHOD] == "synthetic_control"
    assert a.attributes[semconv.ML_MODEL_VERSION] == "v2"
    assert a.attributes[semconv.IMPACT_ROLLOUT_VERDICT] == "effect"


def test_confounding_shock_is_not_credited_by_the_synthetic_control(store: Any) -> None:
    values = panel(5, shock=0.15)
    _write(store, values)
    result = _run(store)
    sc = _row(result, "a", "synthetic_control")
    assert sc["ci"][0] < 0 < sc["ci"][1] and sc["verdict_kind"] == "no_effect" and sc["preferred"]
    # the naive pre/post of the same stored series credits the shock to the rollout
    stored = next(
        s["values"] for s in result["series"] if s["name"] == "revenue" and s["segment"] == {"market": "a"}
    )
    y = np.asarray(stored)
    assert y[ROLLOUT_A:].mean() / y[:ROLLOUT_A].mean() - 1 > 0.1
    assert stats.ttest_ind(y[ROLLOUT_A:], y[:ROLLOUT_A], equal_var=False).pvalue < 0.001
    # and so does the interrupted time series, which has no control group
    assert _row(result, "a", "its_segmented_ar1")["ci"][0] > 0.05


def test_no_effect_through_the_store_covers_zero(store: Any) -> None:
    _write(store, panel(11))
    sc = _row(_run(store), "a", "synthetic_control")
    assert sc["ci"][0] < 0 < sc["ci"][1]


def test_configured_rollout_and_bad_segment_key(store: Any) -> None:
    _write(store, panel(3, effect=0.08))
    extra = {"rollout_impact": {"rollouts": [{"name": "launch", "segments": {"a": "2026-12-27T00:00:00Z"}}]}}
    result = _run(store, extra)
    (rollout,) = result["rollout_impact"]["rollouts"]
    assert rollout["source"] == "config" and rollout["name"] == "launch"
    sc = _row(result, "a", "synthetic_control")
    assert set(sc["weights"]) == {"b", "c", "d", "e", "f"} and sc["n_post"] == DAYS - ROLLOUT_A
    bad = config_from_dict({**CONFIG, "rollout_impact": {"segment_key": "country"}})
    with pytest.raises(ConfigError, match=r"rollout_impact\.segment_key"):
        rollout_stage(JobContext(client=store, config=bad, window=WINDOW))


def test_stage_runs_in_the_pipeline_after_series_and_deployments() -> None:
    names = [s.name for s in STAGES]
    assert names.index("rollout_impact") > max(names.index("series"), names.index("deployments"))
    assert {s.name: s.run for s in STAGES}["rollout_impact"] is rollout_stage


def test_a_rollout_under_an_ab_test_is_left_to_the_lift_stage(store: Any) -> None:
    _write(store, panel(3, effect=0.08))
    arms = {"treatment": {"ml.model.version": "v2"}, "control": {"ml.model.version": "v1"}}
    result = _run(store, {"lift": arms})
    assert result["rollout_impact"]["effects"] == []
    assert result["rollout_impact"]["skipped"] == [
        {"name": "ranker v2", "reason": "A/B test configured (lift)"}
    ]
