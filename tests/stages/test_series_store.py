"""Series SQL against hand-computed values on a small, fully known data set."""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from series_data import DAY, at, insert_events, insert_predictions

from otel_impact import semconv
from otel_impact.config import config_from_dict
from otel_impact.errors import ConfigError
from otel_impact.pipeline import Window
from otel_impact.store import series

WINDOW = Window(at(0), at(3 * DAY))
CONFIG = config_from_dict(
    {
        "business_metrics": [{"name": "purchase", "source": {"event": "business.purchase"}, "window": "1d"}],
        "segments": ["platform"],
    }
)


@pytest.fixture(scope="module")
def data(engine_client: Any) -> Iterator[Any]:
    """One database for the whole module: these tests only read (or add rows outside the window)."""
    import clickhouse_connect

    from otel_impact.store import apply_schema

    name = "t_series_" + uuid.uuid4().hex[:10]
    engine_client.command(f"CREATE DATABASE {name}")
    store = clickhouse_connect.get_client(dsn=os.environ.get(semconv.ENV_TEST_CLICKHOUSE_DSN) or "chdb://memory",
                                          database=name)  # fmt: skip
    apply_schema(store, database=name)
    mobile, web = {"platform": "mobile"}, {"platform": "web"}
    insert_predictions(
        store,
        [
            {"ts": 100, "user": "u1", "version": "v1", "pid": "a1", "score": 0.9, "ms": 100, "segments": mobile, "attrs": {"exp.arm": "v1"}},
            {"ts": 200, "user": "u2", "version": "v2", "pid": "a2", "score": 0.2, "ms": 300, "segments": web, "attrs": {"exp.arm": "v2"}},
            {"ts": 300, "user": "u3", "version": "v1", "pid": "a3", "score": 0.7, "ms": 200, "segments": mobile,
             "adjusted": 2.0, "attrs": {"exp.arm": "v1"}},
            {"ts": DAY + 10, "user": "u1", "version": "v1", "pid": "b1", "score": 0.4, "ms": 50, "segments": mobile, "attrs": {"exp.arm": "v1"}},
            {"ts": -DAY, "user": "u4", "version": "v1", "pid": "old", "score": 0.5},  # before the window
        ],
    )  # fmt: skip
    insert_events(
        store,
        [
            {"ts": 400, "name": "ml.outcome", "pid": "a1", "label": "1"},
            {"ts": 400, "name": "ml.outcome", "pid": "a2", "label": "false"},
            {"ts": 400, "name": "ml.outcome", "pid": "a3", "label": "0"},
            {"ts": DAY + 20, "name": "ml.outcome", "pid": "b1", "label": "true"},
            {"ts": 500, "user": "u1", "value": 10.0},
            {"ts": 600, "user": "u1", "value": 5.0},
            {"ts": 700, "user": "u9", "value": 100.0},
            {"ts": DAY + 500, "user": "u3", "value": 7.0},
        ],
    )
    try:
        yield store
    finally:
        engine_client.command(f"DROP DATABASE IF EXISTS {name} SYNC")


def _row(cols: dict[str, np.ndarray], day: int, **dims: str) -> dict[str, Any]:
    mask = cols["bucket"] == np.datetime64(at(day * DAY).replace(tzinfo=None), "ns")
    for k, v in dims.items():
        mask &= cols[k] == v
    (idx,) = np.nonzero(mask)
    assert idx.size == 1, (day, dims, idx)
    return {k: v[idx[0]] for k, v in cols.items()}


def test_model_series_volume_score_latency(data: Any) -> None:
    cols = series.model_series(data, CONFIG, WINDOW, DAY)
    all0 = _row(cols, 0, model_version="", segment_key="", segment_value="")
    assert all0["volume"] == 4.0  # u3's prediction weighs 2
    assert all0["mean_score"] == pytest.approx((0.9 + 0.2 + 2 * 0.7) / 4)
    assert all0["latency_p95_ms"] == pytest.approx(300.0)
    assert all0["latency_p50_ms"] == pytest.approx(200.0)
    v1_mobile = _row(cols, 0, model_version="v1", segment_key="platform", segment_value="mobile")
    assert v1_mobile["volume"] == 3.0
    assert _row(cols, 1, model_version="", segment_key="", segment_value="")["volume"] == 1.0
    assert not (cols["segment_key"] == "platform")[cols["segment_value"] == ""].any()


def test_quality_series_against_hand_computed_metrics(data: Any) -> None:
    cols = series.quality_series(data, CONFIG, WINDOW, DAY)
    q = _row(cols, 0, model_version="", segment_key="", segment_value="")
    # weights 1, 1, 2; predictions at 0.5: 1 (y=1), 0 (y=0), 1 (y=0)
    assert q["labeled"] == 4.0
    assert q["ctr"] == pytest.approx(1 / 4)  # one positive outcome (weight 1) of 4 labelled
    assert q["accuracy"] == pytest.approx(0.5)
    assert q["precision"] == pytest.approx(1 / 3)
    assert q["recall"] == pytest.approx(1.0)
    assert q["auc"] == pytest.approx(1.0)
    assert q["calibration_error"] == pytest.approx((0.1 + 0.2 + 2 * 0.7) / 4)
    web = _row(cols, 0, model_version="", segment_key="platform", segment_value="web")
    assert web["labeled"] == 1.0 and math.isnan(web["precision"]) and math.isnan(web["recall"])


def test_business_series_value_conversion_and_segments(data: Any) -> None:
    cols = series.business_series(data, CONFIG, WINDOW, DAY, CONFIG.business_metrics[0])
    d0 = _row(cols, 0, segment_key="", segment_value="")
    assert d0["value"] == 115.0 and d0["events"] == 3.0 and d0["active_keys"] == 3.0
    assert d0["conversion_rate"] == pytest.approx(1 / 3)
    assert d0["value_per_user"] == pytest.approx(115 / 3)
    mobile = _row(cols, 0, segment_key="platform", segment_value="mobile")
    assert (mobile["value"], mobile["active_keys"], mobile["conversion_rate"]) == (15.0, 2.0, 0.5)
    web = _row(cols, 0, segment_key="platform", segment_value="web")
    assert (web["value"], web["active_keys"], web["conversion_rate"]) == (0.0, 1.0, 0.0)
    d1 = _row(cols, 1, segment_key="", segment_value="")
    assert (d1["value"], d1["active_keys"], d1["conversion_rate"]) == (7.0, 1.0, 0.0)


def test_lift_users_first_exposure_and_pre_period(data: Any) -> None:
    insert_events(data, [{"ts": -DAY / 2, "user": "u1", "value": 3.0}])  # pre-period purchase
    users = series.lift_users(
        data, CONFIG, WINDOW, CONFIG.business_metrics[0],
        attribute="ml.model.version", treatment="v2", control="v1", pre_period_s=DAY,
    )  # fmt: skip
    got = {
        k: (a, v, p)
        for k, a, v, p in zip(users["key"], users["arm"], users["value"], users["pre_value"], strict=True)
    }
    assert got == {"u1": ("v1", 15.0, 3.0), "u2": ("v2", 0.0, 0.0), "u3": ("v1", 7.0, 0.0)}
    assert users["segments"][0] == ("mobile",)
    assert list(users["model_version"]) == ["v1", "v2", "v1"] and list(users["model_name"]) == ["ranker"] * 3
    assert list(users["treated_spans"]) == [0.0, 1.0, 0.0]


def test_lift_users_by_version_column_equal_the_attribute_map(data: Any) -> None:
    """Arms by ml.model.version read the typed column; any other attribute reads the view's map. The
    fixture's spans carry exp.arm = their version, so both paths must give the same users."""
    by = {
        attr: series.lift_users(
            data, CONFIG, WINDOW, CONFIG.business_metrics[0], attribute=attr, treatment="v2", control="v1"
        )
        for attr in ("ml.model.version", "exp.arm")
    }
    typed, view = by["ml.model.version"], by["exp.arm"]
    assert list(typed["key"]) == ["u1", "u2", "u3"]
    for col, values in typed.items():
        assert list(values) == list(view[col]), col


def test_custom_metric_and_bad_sql(data: Any) -> None:
    data.command("CREATE TABLE costs (ts DateTime64(3), amount Float64) ENGINE = MergeTree ORDER BY ts")
    data.insert("costs", [[at(10), 2.0], [at(20), 3.0], [at(DAY + 5), 4.0]], column_names=["ts", "amount"])
    cfg = config_from_dict({"series": {"custom": [{"name": "cost", "sql": "SELECT ts, amount FROM costs",
                                                   "value": "amount"}]}})  # fmt: skip
    cols = series.custom_series(data, cfg, WINDOW, DAY, cfg.series.custom[0], 0)
    assert list(cols["value"]) == [5.0, 4.0]
    bad = config_from_dict({"series": {"custom": [{"name": "x", "sql": "SELECT nope FROM nowhere"}]}})
    with pytest.raises(ConfigError, match=r"series.custom\[0\].sql"):
        series.custom_series(data, bad, WINDOW, DAY, bad.series.custom[0], 0)
