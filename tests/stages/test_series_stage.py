"""The series, correlation, lift and alert-rule stages end to end through ``pipeline.analyze``.

Planted: in segment ``tenure=power`` the purchase value per user follows the daily mean score two
days later; in ``tenure=casual`` it is noise; users on ``v2`` buy 2 more per day than ``v1``.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from series_data import DAY, at, insert_events, insert_predictions

from otel_impact import semconv
from otel_impact.config import config_from_dict
from otel_impact.context import iso_utc
from otel_impact.pipeline import Window, analyze
from otel_impact.records import make_alert

DAYS = 40


@pytest.fixture()
def planted(store: Any) -> Any:
    rng = np.random.default_rng(11)
    level = np.clip(0.5 + np.cumsum(rng.normal(0, 0.04, DAYS)), 0.15, 0.85)
    preds, events = [], []
    for t in range(DAYS):
        for tenure in ("power", "casual"):
            for u in range(20):
                user = f"{tenure}{u}"
                version = "v2" if u % 2 == 0 else "v1"
                pid = f"{user}-{t}"
                score = float(np.clip(level[t] + rng.normal(0, 0.05), 0, 1))
                preds.append({"ts": t * DAY + 3600, "user": user, "version": version, "pid": pid, "score": score,
                              "ms": 120 if t < 30 else 260, "segments": {"tenure": tenure}})  # fmt: skip
                events.append({"ts": t * DAY + 4000, "name": "ml.outcome", "pid": pid,
                               "label": "1" if rng.random() < score else "0"})  # fmt: skip
                if tenure == "power":
                    driver = level[t - 2] if t >= 2 else level[0]
                    value = 10 + 40 * (driver - 0.5) + rng.normal(0, 1)
                else:
                    value = 10 + rng.normal(0, 3)
                value += 2.0 if version == "v2" else 0.0
                events.append({"ts": t * DAY + 43200, "user": user, "value": round(float(value), 3)})
    insert_predictions(store, preds)
    insert_events(store, events)
    return store


CONFIG = {
    "business_metrics": [{"name": "purchase", "source": {"event": "business.purchase"}, "window": "1d"}],
    "segments": ["tenure"],
    "series": {"bucket": "1d", "model_metrics": ["mean_score", "ctr"]},
    "correlation": {"max_lag": 4, "methods": ["pearson", "spearman"]},
    "lift": {
        "treatment": {"ml.model.version": "v2"},
        "control": {"ml.model.version": "v1"},
        "bootstrap": 300,
    },
    "roi": {"cost_per_1k_predictions": 1.0, "fixed_cost_per_month": 30.0},
    "kpi": {"rollout": "2026-11-21T00:00:00Z"},
}


def test_stages_recover_planted_lag_segment_lift_and_alerts(planted: Any) -> None:
    cfg = config_from_dict(CONFIG)
    result = analyze(planted, cfg, Window(at(0), at(DAYS * DAY)), seed=3).to_json()
    json.dumps(result)  # JSON-able, NaN already turned into null
    for key in ("series", "correlations", "segment_ranking", "transfer", "lift", "roi", "kpi", "alerts"):
        assert key in result, key

    names = {(r["name"], r["kind"]) for r in result["series"]}
    assert {
        ("volume", "model"),
        ("auc", "model"),
        ("ctr", "model"),
        ("conversion_rate", "model"),
        ("purchase.value_per_user", "business"),
    } <= names
    vol = next(r for r in result["series"] if r["name"] == "volume" and not r["segment"]
               and r[semconv.ML_MODEL_VERSION] is None)  # fmt: skip
    assert len(vol["buckets"]) == DAYS and vol["buckets"][0] == "2026-11-01T00:00:00Z"
    assert vol["values"] == [40.0] * DAYS

    power = next(r for r in result["correlations"] if r["model_metric"] == "mean_score"
                 and r["segment"] == {"tenure": "power"} and r["method"] == "pearson")  # fmt: skip
    assert power["lag_s"] == 2 * DAY
    assert power["estimate"] > 0.8 and power["pvalue"] < 0.01
    assert power["ci"][0] < power["estimate"] < power["ci"][1] and power["n"] == DAYS - 2
    assert len(power["lags"]) == 5

    ranking = [r for r in result["segment_ranking"] if r["model_metric"] == "mean_score"]
    assert [r["segment"] for r in ranking] == [{"tenure": "power"}, {"tenure": "casual"}]
    assert ranking[0]["rank"] == 1 and ranking[0]["strength"] > ranking[1]["strength"]

    slope = next(r for r in result["transfer"] if r["model_metric"] == "mean_score"
                 and r["segment"] == {"tenure": "power"})  # fmt: skip
    # 40 per unit of score; the measured daily mean score carries sampling noise, which attenuates
    # the OLS slope a little (errors in variables), so only closeness is asserted
    assert slope["estimate"] == pytest.approx(40.0, rel=0.15)
    assert slope["ci"][0] < slope["estimate"] < slope["ci"][1] and slope["elasticity"] > 0

    overall = next(r for r in result["lift"] if r["metric"] == "purchase" and not r["segment"])
    assert overall["treatment"] == {"ml.model.version": "v2"} and overall["method"] == "welch"
    assert overall["n"] == 40 and overall["estimate"] > 0 and overall["pvalue"] < 0.05
    assert overall["absolute"] == pytest.approx(2.0 * DAYS, rel=0.2)  # +2 per day over the window
    assert not overall["srm"]["mismatch"]
    assert {tuple(r["segment"].items()) for r in result["lift"]} == {
        (),
        (("tenure", "power"),),
        (("tenure", "casual"),),
    }

    (roi,) = result["roi"]
    assert roi["ml.model.name"] == "ranker" and roi["ml.model.version"] == "v2"
    assert roi["incremental_value"] == pytest.approx(overall["absolute"] * 20)
    assert roi["cost"] == pytest.approx(800 / 1000 * 1.0 + 30.0 * 40 / 30)
    assert roi["net_benefit"] == pytest.approx(roi["incremental_value"] - roi["cost"])

    kpi = {r["metric"]: r for r in result["kpi"]["rows"]}
    assert kpi["ranker.latency_p95_ms"]["pre"] == pytest.approx(120.0)
    assert kpi["ranker.latency_p95_ms"]["post"] > 120.0
    assert "purchase.lift" in kpi and "purchase.roi_pct" in kpi

    latency = [a for a in result["alerts"] if a["rule"] == "latency_p95"]
    # the shared persistence policy (2 of the last 3 buckets) fires on the second slow day
    assert [(a["state"], a["at"]) for a in latency] == [("firing", "2026-12-02T00:00:00Z")]


def test_stages_without_data_or_configuration_do_not_crash(store: Any) -> None:
    cfg = config_from_dict({"business_metrics": CONFIG["business_metrics"], "segments": ["tenure"]})
    result = analyze(store, cfg, Window(at(0), at(5 * DAY))).to_json()
    assert result["correlations"] == [] and result["lift"] == [] and result["roi"] == []
    assert any("no predictions" in w for w in result["warnings"])
    business = [r for r in result["series"] if r["kind"] == "business"]
    assert business and all(len(r["values"]) == 5 for r in business)


def test_lift_by_feature_flag_attribute_and_its_roi(store: Any) -> None:
    rng = np.random.default_rng(5)
    preds, events = [], []
    for u in range(200):
        arm = "on" if u % 2 == 0 else "off"
        for t in range(3):
            preds.append({"ts": t * DAY + 60 * u, "user": f"u{u}", "version": "v7", "score": 0.5,
                          "attrs": {semconv.FEATURE_FLAG_VARIANT: arm}})  # fmt: skip
        events.append(
            {
                "ts": 3 * DAY + 60 * u,
                "user": f"u{u}",
                "value": float(rng.gamma(4.0, 2.5)) * (1.1 if arm == "on" else 1.0),
            }
        )
    insert_predictions(store, preds)
    insert_events(store, events)
    cfg = config_from_dict(
        {
            "business_metrics": CONFIG["business_metrics"],
            "lift": {"treatment": {semconv.FEATURE_FLAG_VARIANT: "on"}, "control": {semconv.FEATURE_FLAG_VARIANT: "off"},
                     "bootstrap": 200, "segments": False},
            "roi": {"cost_per_1k_predictions": 10.0},
        }
    )  # fmt: skip
    result = analyze(store, cfg, Window(at(0), at(5 * DAY)), seed=1).to_json()
    (row,) = result["lift"]
    assert (row["n_treatment"], row["n_control"], row["crossover"]) == (100, 100, 0)
    assert row["ci"][0] < row["estimate"] < row["ci"][1]
    (roi,) = result["roi"]
    assert roi["ml.model.version"] == "v7" and roi["ml.model.name"] == "ranker"
    assert roi["predictions"] == 300.0 and roi["cost"] == pytest.approx(3.0)
    assert roi["incremental_value"] == pytest.approx(row["absolute"] * 100)


def test_alert_rules_on_drift_rows_and_lift_without_store() -> None:
    from otel_impact.pipeline import JobContext
    from otel_impact.stages.series import alert_rules

    psis = [0.1, 0.8, 0.9, 0.75, 0.2, 0.1, 0.1, 0.95, 0.95]
    counts = [500, 500, 500, 500, 500, 500, 500, 20, 500]  # day 8 is too thin to judge
    dq = [{"ml.model.name": "ranker", "bucket": f"2026-11-0{d}T00:00:00Z", "psi": psi, "n": n}
          for d, psi, n in zip(range(1, 10), psis, counts, strict=True)]  # fmt: skip
    ctx = JobContext(client=None, config=config_from_dict({}), window=Window(at(0), at(9 * DAY)))
    ctx.result["data_quality"] = dq
    incident = make_alert("incident", at=at(DAY), message="an incident")  # from another stage
    ctx.result["alerts"] = [incident]
    ctx.result["lift"] = [
        {"metric": "purchase", "segment": {}, "estimate": 0.001, "ci": [-0.05, 0.05]},
        {"metric": "signup", "segment": {}, "estimate": -0.04, "ci": [-0.06, -0.02]},
        {"metric": "signup", "segment": {"tenure": "new"}, "estimate": -0.2, "ci": [-0.3, -0.1]},
    ]
    alert_rules(ctx)
    got = [(a.rule, a.state, iso_utc(a.at)) for a in ctx.result["alerts"]]
    assert got[0][0] == "incident"  # appended, not replaced
    drift = [(s, at) for r, s, at in got if r == "drift_score"]
    # 2 of 3 buckets fire, three calm buckets resolve; the thin bucket is unknown, so the last
    # high bucket alone does not fire again
    assert drift == [("firing", "2026-11-03T00:00:00Z"), ("resolved", "2026-11-07T00:00:00Z")]
    impact = [a for a in ctx.result["alerts"] if a.rule == "business_impact"]
    assert len(impact) == 1 and impact[0].message.startswith("signup: lift -4 % (CI -6 … -2 %)")
    # purchase is below the threshold but not significantly so: said, not alerted
    assert any(w.startswith("business_impact: purchase") and "not significantly" in w for w in ctx.warnings)


def test_correlation_stage_ranks_segments_on_the_period_before_a_breakdown() -> None:
    from otel_impact.pipeline import JobContext
    from otel_impact.stages import correlation
    from otel_impact.stages.series import Series, SeriesSet

    rng = np.random.default_rng(2)
    n = 90
    grid = (np.datetime64("2026-08-01", "ns") + np.arange(n) * np.timedelta64(86400, "s")).astype(
        "datetime64[ns]"
    )
    ctr = rng.normal(0.1, 0.01, n)
    z = (ctr - 0.1) / 0.01
    sign = np.where(np.arange(n) < 60, 1.0, -1.0)  # from bucket 60 business moves against the model
    strong = 10 + sign * 0.95 * z + 0.3 * rng.normal(size=n)
    weak = 10 + sign * 0.5 * z + 0.9 * rng.normal(size=n)
    built = SeriesSet(grid, 86400.0)
    for seg, y in (((), strong + weak), ((("tenure", "weak"),), weak), ((("tenure", "strong"),), strong)):
        built.items.append(Series("ctr", "model", seg, ctr, "ranker", None))
        built.items.append(Series("purchase.value_per_user", "business", seg, y, business_metric="purchase"))
    cfg = config_from_dict({**{k: CONFIG[k] for k in ("business_metrics", "segments")},
                            "series": {"model_metrics": ["ctr"]}, "correlation": {"max_lag": 3}})  # fmt: skip
    ctx = JobContext(client=None, config=cfg, window=Window(at(0), at(n * DAY)))
    ctx.cache["series"] = built
    correlation.run(ctx)

    breakdowns = [a for a in ctx.result["alerts"] if a.rule == "correlation_breakdown" and not
                  a.attributes.get(semconv.IMPACT_SEGMENT_KEY)]  # fmt: skip
    first = breakdowns[0]
    assert first.state == "firing" and 60 <= (first.at - bucket0(grid)).days <= 68
    assert first.attributes[semconv.IMPACT_CORRELATION_R_BEFORE] > 0.5
    assert first.attributes[semconv.IMPACT_LAG_S] == 0.0
    ranking = ctx.result["segment_ranking"]
    assert [r["segment"] for r in ranking] == [{"tenure": "strong"}, {"tenure": "weak"}]
    assert ranking[0]["period_end"] is not None and ranking[0]["estimate"] > 0.9
    row = next(r for r in ctx.result["correlations"] if not r["segment"] and r["method"] == "pearson")
    assert row["lag_s"] == 0.0 and row["n"] == n


def bucket0(grid: np.ndarray) -> Any:
    from otel_impact.stages.series import bucket_time

    return bucket_time(grid[0])
