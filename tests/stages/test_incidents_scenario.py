"""The 60-day incident scenario through the real store: one abrupt AUC drop (0.96 → 0.50) on
day 31, routine daily pipeline runs with date-stamped data versions, one real cause and decoys.

Expected: exactly that drop is found, linked to the real cause, no incident before it, and the
``affected`` flags sit on the metrics that moved, from the day they moved.
"""

from __future__ import annotations

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

BASE = datetime(2026, 9, 1, tzinfo=UTC)
DAYS = 60
DROP_DAY = 31
PER_DAY = 80
SIGNAL = 1.24  # AUC = Φ(√2 · s) ≈ 0.96 for score = σ(s (2y − 1) + N(0, 1)); 0 → AUC 0.5

CONFIG = {
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
    return BASE + timedelta(seconds=round(float(days) * 86400))


def _run_event(
    days: float, pipeline: str, dataset: str, status: str, version: str = "", change: str = ""
) -> list[Any]:
    attrs = {semconv.PIPELINE_NAME: pipeline, semconv.DATASET_NAME: dataset, semconv.PIPELINE_STATUS: status}
    if version:
        attrs[semconv.DATA_VERSION] = version
    if change:
        attrs[semconv.PIPELINE_CHANGE] = change
    return [at(days), semconv.EVENT_PIPELINE_RUN, "airflow", attrs]


def load_scenario(client: Any, *, seed: int = 11) -> None:
    """Prediction spans with ground truth; daily `features_daily` runs at 01:00 whose data.version
    is the run's date; daily `catalog_sync` spans at 02:00. The real cause: a declared schema
    change of `features_daily` on day 30 at 20:00. Decoys: the unrelated `crm_export` fails on
    day 30 at 21:00; `catalog_sync` (in the model's lineage) fails on day 31 at 06:00 — after the
    drop began."""
    rng = np.random.default_rng(seed)
    spans, logs = [], []
    for d in range(DAYS):
        signal = SIGNAL if d < DROP_DAY else 0.0
        y = rng.integers(0, 2, PER_DAY)
        score = 1 / (1 + np.exp(-(signal * (2 * y - 1) + rng.normal(0, 1.0, PER_DAY))))
        for i in range(PER_DAY):
            pid = f"p{d:02d}{i:04d}"
            ts = d + (i + 0.5) / PER_DAY
            attrs = {
                semconv.ML_MODEL_NAME: "ranker",
                semconv.ML_MODEL_VERSION: "v1",
                semconv.ML_PREDICTION_ID: pid,
                semconv.ML_PREDICTION_SCORE: repr(float(score[i])),
                semconv.USER_ID: f"u{i % 97}",
            }
            spans.append([at(ts), f"{d:08x}{i:024x}", f"{d:04x}{i:012x}", "predict ranker", "recommender", attrs, 0, "Unset"])  # fmt: skip
            logs.append([at(ts + 0.01), semconv.EVENT_ML_OUTCOME, "labeler",
                         {semconv.ML_PREDICTION_ID: pid, semconv.ML_OUTCOME_LABEL: str(int(y[i]))}])  # fmt: skip
        day = (BASE + timedelta(days=d)).date().isoformat()
        logs.append(_run_event(d + 1 / 24, "features_daily", "clicks", "success", version=day))
        spans.append([at(d + 2 / 24), f"{d:08x}{'f' * 24}", f"{d:04x}{'f' * 12}", "sync catalog", "catalog-sync",
                      {semconv.PIPELINE_NAME: "catalog_sync", semconv.DATASET_NAME: "catalog"}, 600 * 10**9,
                      "Error" if d == DROP_DAY else "Ok"])  # fmt: skip
    logs.append(_run_event(DROP_DAY - 1 + 20 / 24, "features_daily", "clicks", "success",
                           version=(BASE + timedelta(days=DROP_DAY - 1)).date().isoformat(), change="schema_change"))  # fmt: skip
    logs.append([at(DROP_DAY - 1 + 21 / 24), semconv.EVENT_PIPELINE_INCIDENT, "airflow",
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


@pytest.fixture(scope="module")
def scenario(engine_client: Any) -> Iterator[dict[str, Any]]:
    import clickhouse_connect

    from otel_impact.store import apply_schema

    name = "t_" + uuid.uuid4().hex[:12]
    engine_client.command(f"CREATE DATABASE {name}")
    dsn = os.environ.get(semconv.ENV_TEST_CLICKHOUSE_DSN) or "chdb://memory"  # as tests/conftest.py
    client = clickhouse_connect.get_client(dsn=dsn, database=name)
    try:
        apply_schema(client, database=name)
        load_scenario(client)
        yield analyze(client, config_from_dict(CONFIG), Window(BASE, at(DAYS))).to_json()
    finally:
        engine_client.command(f"DROP DATABASE IF EXISTS {name} SYNC")


def _day(iso: str) -> float:
    return (datetime.fromisoformat(iso.replace("Z", "+00:00")) - BASE).total_seconds() / 86400


def test_exactly_the_real_drop_is_found(scenario: dict[str, Any]) -> None:
    auc = [i for i in scenario["incidents"] if i["anomaly"]["metric"] == "auc"]
    assert len(auc) == 1, [i["anomaly"] for i in auc]
    a = auc[0]["anomaly"]
    assert (_day(a["start"]), a["direction"], a["method"]) == (DROP_DAY, "down", "changepoint")
    assert a["baseline"] == pytest.approx(0.96, abs=0.03)  # the level before the drop
    assert a["magnitude"] == pytest.approx(-0.46, abs=0.06)
    # nothing is reported before the drop, for any watched metric, in either direction
    assert all(_day(i["anomaly"]["start"]) >= DROP_DAY for i in scenario["incidents"])
    incident_alerts = [al for al in scenario["alerts"] if al["rule"] == "incident"]
    assert all(_day(al["at"]) >= DROP_DAY for al in incident_alerts)
    assert not [al for al in incident_alerts if al["severity"] == "critical" and " up by " in al["message"]]


def test_the_drop_is_linked_to_the_declared_schema_change(scenario: dict[str, Any]) -> None:
    (inc,) = [i for i in scenario["incidents"] if i["anomaly"]["metric"] == "auc"]
    assert inc["cause"] == "upstream"
    top = inc["linked"][0]
    assert (top["pipeline.name"], top["change"], _day(top["at"])) == (
        "features_daily",
        "schema_change",
        DROP_DAY - 4 / 24,
    )
    others = {(lk["pipeline.name"], lk["status"]): lk for lk in inc["linked"][1:]}
    # routine daily runs are background: not one of them is a candidate
    assert not [lk for lk in inc["linked"] if lk["pipeline.name"] == "features_daily" and not lk["change"]]
    # the decoys rank below: an unrelated failure, and a failure that followed the drop's start
    assert others[("crm_export", "failed")]["score"] < top["score"]
    if ("catalog_sync", "failed") in others:
        assert others[("catalog_sync", "failed")]["score"] <= 0.5 * top["score"]
        assert others[("catalog_sync", "failed")]["lag_s"] < 0
    (alert,) = [al for al in scenario["alerts"] if al["rule"] == "incident" and "auc" in al["message"]]
    assert (
        alert["severity"] == "critical" and "likely cause: features_daily schema_change" in alert["message"]
    )


def test_affected_flags_sit_on_the_moved_metrics_only(scenario: dict[str, Any]) -> None:
    moved = {i["anomaly"]["metric"] for i in scenario["incidents"]}
    assert "auc" in moved and "mean_score" not in moved
    flagged: dict[str, list[float]] = {}
    for s in scenario["series"]:
        if s["kind"] != "model" or "affected" not in s:
            continue
        days = [_day(b) for b, f in zip(s["buckets"], s["affected"], strict=True) if f]
        if days:
            assert s["segment"] == {} and s["ml.model.version"] is None, s["name"]
            flagged[s["name"]] = days
    assert set(flagged) == moved  # auc (and accuracy, which moved with it), nothing else
    assert flagged["auc"] == [float(d) for d in range(DROP_DAY, DAYS)]
