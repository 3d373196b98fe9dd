"""Incidents stage end to end: spans and log events in the store → pipeline.analyze → JSON."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from otel_impact import semconv
from otel_impact.config import config_from_dict
from otel_impact.pipeline import Window, analyze
from otel_impact.records import Result
from otel_impact.stages.incidents import incident_annotations
from otel_impact.store.incidents import ANNOTATION_COLUMNS, write_annotations

BASE = datetime(2026, 11, 1, tzinfo=UTC)
DAYS = 30
PER_DAY = 120
DROP_DAY = 13

LINEAGE = {
    "lineage": {
        "models": {"ranker": {"features": ["user_ctr", "item_pop"]}},
        "features": {"user_ctr": {"datasets": ["clicks"]}, "item_pop": {"datasets": ["catalog"]}},
        "datasets": {"clicks": {"pipelines": ["features_daily"]}, "catalog": {"pipelines": ["catalog_sync"]}},
    },
    "pipelines": {
        "features_daily": {"schedule": "1d", "grace": "2h", "dataset": "clicks"},
        "catalog_sync": {"schedule": "1d", "grace": "2h", "dataset": "catalog"},
    },
    "incidents": {"metrics": ["auc", "accuracy", "mean_score"], "link_window": "3d", "bucket": "1d"},
}


def at(days: float) -> datetime:
    # whole seconds: clickhouse-connect converts sub-second datetimes on a much slower path
    return BASE + timedelta(seconds=round(float(days) * 86400))


def load_world(client: Any, *, seed: int = 7, drop: bool = True, events: bool = True) -> None:
    """ranker predictions with ground truth; AUC drops from DROP_DAY (the score loses signal).
    Upstream: daily runs of features_daily (log events) and catalog_sync (spans); a schema change
    on `clicks` at day 12 10:00 (data.version v7 → v8); the unrelated crm_export fails at day 12
    11:00; catalog_sync skips day 20 and its span errors on day 25."""
    rng = np.random.default_rng(seed)
    spans, logs = [], []
    for d in range(DAYS):
        signal = 0.6 if (drop and d >= DROP_DAY) else 2.0
        y = rng.integers(0, 2, PER_DAY)
        score = 1 / (1 + np.exp(-(signal * (2 * y - 1) + rng.normal(0, 1.0, PER_DAY))))
        ts = d + (np.arange(PER_DAY) + 0.5) / PER_DAY
        for i in range(PER_DAY):
            pid = f"p{d:02d}{i:04d}"
            attrs = {
                semconv.ML_MODEL_NAME: "ranker",
                semconv.ML_MODEL_VERSION: "v1",
                semconv.ML_PREDICTION_ID: pid,
                semconv.ML_PREDICTION_SCORE: repr(float(score[i])),
                semconv.ML_FEATURES_HASH: f"h{rng.integers(0, 50 if d < DROP_DAY else 80)}",
                semconv.USER_ID: f"u{i % 97}",
            }
            if i % 10 == 0:
                attrs[semconv.ML_FEATURES_MISSING] = "1"
            attrs[semconv.segment_attribute("platform")] = "mobile" if i % 2 else "web"
            spans.append(
                [
                    at(ts[i]),
                    f"{d:08x}{i:024x}",
                    f"{d:04x}{i:012x}",
                    "predict ranker",
                    "recommender",
                    attrs,
                    0,
                    "Unset",
                ]
            )
            logs.append([at(ts[i] + 0.01), "ml.outcome", "labeler",
                         {semconv.ML_PREDICTION_ID: pid, semconv.ML_OUTCOME_LABEL: str(int(y[i]))}])  # fmt: skip
        logs.append([at(d + 0.5), semconv.EVENT_FEATURE_SUMMARY, "recommender",
                     {semconv.ML_MODEL_NAME: "ranker", semconv.ML_FEATURE_NAME: "user_ctr",
                      semconv.ML_FEATURE_COUNT: "100", semconv.ML_FEATURE_MISSING: "4" if d < DROP_DAY else "40",
                      semconv.ML_FEATURE_MEAN: "0.1" if d < DROP_DAY else "0.3",
                      semconv.ML_FEATURE_MIN: "0", semconv.ML_FEATURE_MAX: "1"}])  # fmt: skip
        if not events:
            continue
        logs.append([at(d + 1 / 24), semconv.EVENT_PIPELINE_RUN, "airflow",
                     {semconv.PIPELINE_NAME: "features_daily", semconv.DATASET_NAME: "clicks",
                      semconv.PIPELINE_STATUS: "success", semconv.DATA_VERSION: "v7"}])  # fmt: skip
        if d != 20:
            spans.append([at(d + 2 / 24), f"{d:08x}{'f' * 24}", f"{d:04x}{'f' * 12}", "sync catalog", "catalog-sync",
                          {semconv.PIPELINE_NAME: "catalog_sync", semconv.DATASET_NAME: "catalog"}, 600 * 10**9,
                          "Error" if d == 25 else "Ok"])  # fmt: skip
    if events:
        logs.append([at(12 + 10 / 24), semconv.EVENT_PIPELINE_RUN, "airflow",
                     {semconv.PIPELINE_NAME: "features_daily", semconv.DATASET_NAME: "clicks",
                      semconv.PIPELINE_STATUS: "success", semconv.PIPELINE_CHANGE: "schema_change",
                      semconv.DATA_VERSION: "v8"}])  # fmt: skip
        logs.append([at(12 + 11 / 24), semconv.EVENT_PIPELINE_INCIDENT, "airflow",
                     {semconv.PIPELINE_NAME: "crm_export", semconv.DATASET_NAME: "accounts",
                      semconv.PIPELINE_STATUS: "failed"}])  # fmt: skip
    client.insert(
        semconv.TABLE_TRACES, spans,
        column_names=["Timestamp", "TraceId", "SpanId", "SpanName", "ServiceName", "SpanAttributes", "Duration",
                      "StatusCode"],
    )  # fmt: skip
    client.insert(
        semconv.TABLE_LOGS, logs, column_names=["Timestamp", "EventName", "ServiceName", "LogAttributes"]
    )


def run(client: Any, **extra: Any) -> dict[str, Any]:
    cfg = config_from_dict({**LINEAGE, **extra})
    return analyze(client, cfg, Window(BASE, at(DAYS))).to_json()


def _world(engine_client: Any, **kwargs: Any) -> Iterator[Any]:
    """A fresh database with the schema and one simulated world, shared by a module's tests
    (loading is the slow part; every test only reads)."""
    import clickhouse_connect

    from otel_impact.store import apply_schema

    name = "t_" + uuid.uuid4().hex[:12]
    engine_client.command(f"CREATE DATABASE {name}")
    dsn = os.environ.get(semconv.ENV_TEST_CLICKHOUSE_DSN) or "chdb://memory"  # as tests/conftest.py
    client = clickhouse_connect.get_client(dsn=dsn, database=name)
    try:
        apply_schema(client, database=name)
        load_world(client, **kwargs)
        yield client
    finally:
        engine_client.command(f"DROP DATABASE IF EXISTS {name} SYNC")


@pytest.fixture(scope="module")
def incident_world(engine_client: Any) -> Iterator[Any]:
    yield from _world(engine_client)


@pytest.fixture(scope="module")
def incident_result(incident_world: Any) -> dict[str, Any]:
    return run(incident_world)


def test_auc_drop_is_linked_to_the_schema_change(incident_result: dict[str, Any]) -> None:
    result = incident_result
    auc = [i for i in result["incidents"] if i["anomaly"]["metric"] == "auc"]
    assert auc, result["incidents"]
    inc = auc[0]
    a = inc["anomaly"]
    start = datetime.fromisoformat(a["start"].replace("Z", "+00:00"))
    assert abs((start - at(DROP_DAY)).total_seconds()) <= 86400
    assert a["direction"] == "down" and a["ml.model.name"] == "ranker" and a["segment"] == {}
    assert a["magnitude"] < -0.1 and a["method"] == "changepoint"
    assert inc["cause"] == "upstream"
    top = inc["linked"][0]
    assert (top["pipeline.name"], top["dataset.name"], top["change"]) == (
        "features_daily",
        "clicks",
        "schema_change",
    )
    assert top["at"] == "2026-11-13T10:00:00Z"
    crm = [lk for lk in inc["linked"] if lk["pipeline.name"] == "crm_export"]
    assert crm and crm[0]["score"] < top["score"]
    # alerts appended, affected windows listed
    assert any(al["rule"] == "incident" and "features_daily" in al["message"] for al in result["alerts"])
    assert any(w["ml.model.name"] == "ranker" and "auc" in w["metrics"] for w in result["affected_windows"])
    # freshness: catalog_sync (spans) missed day 20; features_daily (log events) on time
    fresh = {f["pipeline.name"]: f for f in result["freshness"]}
    assert fresh["features_daily"]["status"] == "ok" and fresh["features_daily"]["missing"] == 0
    # catalog_sync (spans) skipped day 20 and failed on day 25 (an error span is no fresh run)
    assert fresh["catalog_sync"]["missing"] == 2
    assert fresh["catalog_sync"]["gaps"] == [
        {"kind": "missing", "at": "2026-11-21T04:10:00Z"},  # due 02:10 + 2 h grace
        {"kind": "missing", "at": "2026-11-26T04:10:00Z"},
    ]
    failed_span = [e for e in result["upstream_events"] if e["kind"] == "span" and e["status"] == "failed"]
    assert [(e["pipeline.name"], e["at"]) for e in failed_span] == [
        ("catalog_sync", "2026-11-26T02:10:00Z")
    ]  # span end
    # a run whose data.version differs from the previous run is marked as a change
    assert any(
        e["change"] == "data_version" and e["pipeline.name"] == "features_daily"
        for e in result["upstream_events"]
    )
    # data quality after the 7-day reference: drift after the drop, not before
    dq = result["data_quality"]
    assert dq and dq[0]["bucket"] == "2026-11-08T00:00:00Z"
    before = [r for r in dq if r["bucket"] < "2026-11-14"]
    after = [r for r in dq if r["bucket"] >= "2026-11-15"]
    assert not any(r["drift"] for r in before)
    assert all(r["drift"] for r in after)
    assert max(r["psi"] for r in before) < min(r["psi"] for r in after)
    assert all(r["novelty"] == 0 for r in before)
    assert all(r["novelty"] > 0.2 for r in after)
    assert all(r["missing_rate"] == pytest.approx(0.1) for r in dq)
    assert any(al["rule"] == "drift" for al in result["alerts"])


def test_replaying_the_window_gives_the_same_result(
    incident_world: Any, incident_result: dict[str, Any]
) -> None:
    again = run(incident_world)
    assert again["incidents"], "non-trivial result"
    assert json.dumps(again, sort_keys=True) == json.dumps(incident_result, sort_keys=True)


def test_model_series_buckets_are_flagged_affected(incident_result: dict[str, Any]) -> None:
    series = [
        s
        for s in incident_result.get("series", [])
        if s["kind"] == "model" and s["segment"] == {} and "affected" in s
    ]
    assert series, "the series stage runs before the incidents stage"
    moved = {i["anomaly"]["metric"] for i in incident_result["incidents"]}
    assert "auc" in moved
    for s in series:
        flags = dict(zip(s["buckets"], s["affected"], strict=True))
        assert flags["2026-11-05T00:00:00Z"] is False
        # flagged: the all-versions series of a metric that moved; not volume, latency …
        expected = s["name"] in moved and s["ml.model.version"] is None
        assert flags["2026-11-20T00:00:00Z"] is expected, s["name"]


def test_feature_summaries_in_data_quality(incident_result: dict[str, Any]) -> None:
    rows = {r["bucket"][:10]: r["features"] for r in incident_result["data_quality"]}
    (before,) = rows["2026-11-10"]
    assert before["ml.feature.name"] == "user_ctr"
    assert before["missing_rate"] == pytest.approx(0.04)
    assert before["mean"] == pytest.approx(0.1) and before["mean_delta"] == pytest.approx(0.0, abs=1e-12)
    (after,) = rows["2026-11-20"]
    assert after["missing_rate"] == pytest.approx(0.4)
    assert after["mean_delta"] == pytest.approx(0.2)
    assert (after["min"], after["max"], after["n"]) == (0.0, 1.0, 100.0)


def test_segments_are_watched_when_enabled(incident_world: Any) -> None:
    result = run(incident_world, segments=["platform"], incidents={"segments": True})
    segs = {
        json.dumps(i["anomaly"]["segment"]) for i in result["incidents"] if i["anomaly"]["metric"] == "auc"
    }
    assert {"{}", json.dumps({"platform": "mobile"}), json.dumps({"platform": "web"})} <= segs
    mobile = next(i for i in result["incidents"] if i["anomaly"]["segment"] == {"platform": "mobile"})
    assert mobile["linked"][0]["change"] == "schema_change"
    assert any(w["segment"] == {"platform": "mobile"} for w in result["affected_windows"])


def test_drop_without_upstream_events_is_unlinked(engine_client: Any) -> None:
    world = _world(engine_client, events=False)
    result = run(next(world), pipelines={})
    world.close()
    auc = [i for i in result["incidents"] if i["anomaly"]["metric"] == "auc"]
    assert auc and auc[0]["linked"] == [] and auc[0]["cause"] == "unlinked"
    assert any(al["rule"] == "incident" and "no upstream cause" in al["message"] for al in result["alerts"])


def test_stable_world_has_no_incidents(engine_client: Any) -> None:
    world = _world(engine_client, drop=False)
    result = run(next(world))
    world.close()
    assert result["incidents"] == []
    assert not any(al["rule"] == "incident" for al in result["alerts"])


def test_annotations_from_result_go_into_the_table(
    incident_world: Any, incident_result: dict[str, Any]
) -> None:
    store = incident_world
    rows = incident_annotations(Result.from_json(incident_result), run_id="r1")
    kinds = {r["kind"] for r in rows}
    assert {"incident", "pipeline_event", "drift"} <= kinds
    assert all(set(r) == set(ANNOTATION_COLUMNS) for r in rows)
    assert write_annotations(store, rows) == len(rows)
    got = store.query(
        "SELECT kind, count() FROM impact_annotations WHERE run_id = {r:String} GROUP BY kind ORDER BY kind",
        parameters={"r": "r1"},
    ).result_rows
    assert dict(got) == {k: sum(r["kind"] == k for r in rows) for k in kinds}


def test_empty_store_gives_empty_sections(store: Any) -> None:
    result = run(store)
    assert result["incidents"] == [] and result["data_quality"] == []
    assert [f["status"] for f in result["freshness"]] == ["unknown", "unknown"]
    assert result["alerts"] == []


def test_disabled_stage_writes_empty_sections(incident_world: Any) -> None:
    result = run(incident_world, incidents={"enabled": False})
    assert result["incidents"] == [] and result["freshness"] == [] and result["data_quality"] == []


def test_score_histogram_metric_gives_psi_for_models_without_span_scores(store: Any) -> None:
    """A model seen only through the ml.prediction.score histogram (cumulative, one process
    restart on day 20): PSI per bucket from the differenced bucket counts."""
    before, after = np.array([25, 25, 25, 25]), np.array([5, 5, 40, 50])
    rows, total, start = [], np.zeros(4, dtype=np.int64), at(-1)
    for d in range(DAYS):
        if d == 20:  # restart: a new series counting from zero
            total, start = np.zeros(4, dtype=np.int64), at(20)
        total = total + (before if d < DROP_DAY else after)
        rows.append(["scorer-svc", semconv.METRIC_PREDICTION_SCORE, {semconv.ML_MODEL_NAME: "scorer"},
                     start, at(d + 0.5), int(total.sum()), total.tolist(), [0.25, 0.5, 0.75], 2])  # fmt: skip
    store.insert(
        semconv.TABLE_METRICS_HISTOGRAM, rows,
        column_names=["ServiceName", "MetricName", "Attributes", "StartTimeUnix", "TimeUnix", "Count",
                      "BucketCounts", "ExplicitBounds", "AggregationTemporality"],
    )  # fmt: skip
    result = run(store, pipelines={})
    dq = {r["bucket"][:10]: r for r in result["data_quality"] if r["ml.model.name"] == "scorer"}
    assert dq and all(r["source"] == "histogram" and r["ks"] is None for r in dq.values())
    assert dq["2026-11-10"]["psi"] == pytest.approx(0.0, abs=1e-12) and not dq["2026-11-10"]["drift"]
    e, a = before / before.sum(), after / after.sum()
    expected = float(np.sum((a - e) * np.log(a / e)))
    for day in ("2026-11-15", "2026-11-21", "2026-11-25"):  # 11-21 is the restart day
        assert dq[day]["psi"] == pytest.approx(expected, rel=1e-12)
        assert dq[day]["drift"] and dq[day]["n"] == 100
    assert dq["2026-11-08"]["reference"]["n"] == 600  # days 1–6: day 0 has no earlier point to difference
    assert any(al["rule"] == "drift" and "scorer" in al["message"] for al in result["alerts"])
