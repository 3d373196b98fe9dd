"""Stitching + heuristic attribution in ClickHouse against the numpy oracle and hand-computed cases.

Data goes into the exporter-layout tables (``otel_traces`` / ``otel_logs``) and is read back
through the typed views, exactly as the analyzer sees it in production.
"""

from __future__ import annotations

import importlib.util
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from series_data import BASE, DAY, at, insert_predictions
from stitch_store import emptied_store, module_store  # noqa: F401  (fixtures: a shared `store`)

from otel_impact import semconv
from otel_impact.config import config_from_dict
from otel_impact.errors import ConfigError
from otel_impact.pipeline import Window
from otel_impact.store import stitch

_spec = importlib.util.spec_from_file_location(
    "stitch_oracle", Path(__file__).parent.parent / "analyze" / "oracle.py"
)
assert _spec is not None and _spec.loader is not None
oracle = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("stitch_oracle", oracle)
_spec.loader.exec_module(oracle)


def insert_events(client: Any, rows: list[dict[str, Any]], name: str = "business.purchase") -> None:
    data = []
    for r in rows:
        attrs = {semconv.USER_ID: r.get("user", "")}
        if r.get("session"):
            attrs[semconv.SESSION_ID] = r["session"]
        if r.get("value") is not None:
            attrs[semconv.BUSINESS_VALUE] = repr(float(r["value"]))
        data.append([at(r["ts"]), r.get("name", name), "checkout", attrs])
    if data:
        client.insert(
            semconv.TABLE_LOGS, data, column_names=["Timestamp", "EventName", "ServiceName", "LogAttributes"]
        )


def make_config(**extra: Any) -> Any:
    cfg: dict[str, Any] = {
        "business_metrics": [{"name": "purchase", "source": {"event": "business.purchase"}, "window": "2d"}],
        "segments": ["platform"],
    }
    cfg.update(extra)
    return config_from_dict(cfg)


WINDOW = Window(at(3 * DAY), at(9 * DAY))


def by_channel(cr: Any, model: str) -> dict[tuple[str, str, tuple[str, ...]], tuple[float, float]]:
    out = {}
    for i in range(len(cr.model_name)):
        out[(cr.model_name[i], cr.model_version[i], cr.segment_values[i])] = (
            float(cr.credit[model][i]),
            float(cr.value[model][i]),
        )
    return out


def random_data(seed: int, n_users: int = 25, n_preds: int = 400, n_out: int = 120) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    # coarse grid (2 h) over 10 days so a user's predictions often share a timestamp (tie order)
    grid = 7200
    p_ts = rng.integers(0, 10 * 12, size=n_preds) * grid
    p_user = np.array([f"u{u}" if u else "" for u in rng.integers(0, n_users, size=n_preds)], dtype=object)
    p_ver = rng.choice(["v1", "v2", "v3"], size=n_preds)
    p_seg = rng.choice(["mobile", "web"], size=n_preds)
    p_adj = rng.choice([1.0, 2.0, 4.0], size=n_preds)
    p_id = np.array([f"p{i:05d}" for i in rng.permutation(n_preds)], dtype=object)
    o_ts = np.sort(rng.choice(10 * 96 * 9, size=n_out, replace=False)) * 100 + 37  # unique, off-grid
    o_user = np.array([f"u{u}" if u else "" for u in rng.integers(0, n_users, size=n_out)], dtype=object)
    o_val = np.round(rng.uniform(1, 100, size=n_out), 2)
    return {
        "p_ts": p_ts, "p_user": p_user, "p_ver": p_ver, "p_seg": p_seg, "p_adj": p_adj, "p_id": p_id,
        "o_ts": o_ts, "o_user": o_user, "o_val": o_val,
    }  # fmt: skip


def load(client: Any, d: dict[str, Any]) -> None:
    insert_predictions(
        client,
        [
            {"ts": int(d["p_ts"][i]), "user": d["p_user"][i], "version": str(d["p_ver"][i]),
             "pid": d["p_id"][i], "segments": {"platform": str(d["p_seg"][i])}, "adjusted": d["p_adj"][i]}
            for i in range(len(d["p_ts"]))
        ],
    )  # fmt: skip
    insert_events(
        client,
        [
            {"ts": int(d["o_ts"][i]), "user": d["o_user"][i], "value": d["o_val"][i]}
            for i in range(len(d["o_ts"]))
        ],
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sql_equals_oracle_on_random_data(store: Any, seed: int) -> None:
    d = random_data(seed)
    load(store, d)
    cfg = make_config()
    cr = stitch.heuristic_credits(store, cfg, WINDOW, cfg.business_metrics[0])

    start, end = 3 * DAY, 9 * DAY
    in_window = (d["o_ts"] >= start) & (d["o_ts"] < end)
    ref = oracle.stitch(
        d["p_user"], d["p_ts"].astype(float), d["p_id"], d["p_adj"],
        d["o_user"][in_window], d["o_ts"][in_window].astype(float),
        window=2 * DAY, start=start, end=end, first=0.4, last=0.4, half_life=DAY,
    )  # fmt: skip
    values = d["o_val"][in_window]
    # the data exercise the tie order: some outcome's eligible predictions share a timestamp
    # and differ in the credited cell
    assert any(
        len(set(d["p_ts"][ref.prediction[ref.outcome == o]])) < int((ref.outcome == o).sum())
        for o in np.flatnonzero(ref.attributed)
    )
    assert cr.unattributed_outcomes == int((~ref.attributed).sum())
    assert cr.unattributed_value == pytest.approx(values[~ref.attributed].sum(), rel=1e-9)
    assert cr.attributed_outcomes == int(ref.attributed.sum()) > 0
    for model in oracle.MODELS:
        expected: dict[tuple[str, str, tuple[str, ...]], list[float]] = defaultdict(lambda: [0.0, 0.0])
        for o, p, c in zip(ref.outcome, ref.prediction, ref.credit[model], strict=True):
            slot = expected[("ranker", str(d["p_ver"][p]), (str(d["p_seg"][p]),))]
            slot[0] += c
            slot[1] += c * values[o]
        got = by_channel(cr, model)
        for key, (credit, value) in expected.items():
            if credit == 0:
                continue
            assert got[key][0] == pytest.approx(credit, rel=1e-9), (model, key)
            assert got[key][1] == pytest.approx(value, rel=1e-9), (model, key)
        assert sum(v[1] for v in got.values()) == pytest.approx(values[ref.attributed].sum(), rel=1e-9)


def test_credit_per_outcome_sums_to_its_value(store: Any) -> None:
    d = random_data(5)
    load(store, d)
    cfg = make_config()
    # 1 ns buckets: outcome timestamps are unique, so each bucket is one outcome
    cr = stitch.heuristic_credits(store, cfg, WINDOW, cfg.business_metrics[0], bucket_s=1e-9)
    base_ns = int(BASE.timestamp()) * 10**9
    value_of = {base_ns + int(t) * 10**9: v for t, v in zip(d["o_ts"], d["o_val"], strict=True)}
    for model in oracle.MODELS:
        per_bucket: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for b, c, v in zip(cr.bucket, cr.credit[model], cr.value[model], strict=True):
            per_bucket[int(b)][0] += c
            per_bucket[int(b)][1] += v
        assert len(per_bucket) == cr.attributed_outcomes
        for b, (credit, value) in per_bucket.items():
            assert credit == pytest.approx(1.0, rel=1e-12)
            assert value == pytest.approx(value_of[b], rel=1e-9)


def test_hand_computed_three_predictions(store: Any) -> None:
    insert_predictions(
        store,
        [
            {"ts": 0, "user": "u1", "version": "v1", "pid": "a", "segments": {"platform": "mobile"}},
            {
                "ts": DAY / 2,
                "user": "u1",
                "version": "v2",
                "pid": "b",
                "segments": {"platform": "web"},
                "adjusted": 2,
            },
            {"ts": DAY, "user": "u1", "version": "v3", "pid": "c", "segments": {"platform": "mobile"}},
        ],
    )
    insert_events(store, [{"ts": DAY, "user": "u1", "value": 10.0}])
    cfg = make_config(
        attribution={"position_based": {"first": 0.3, "last": 0.5}, "time_decay": {"half_life": "1d"}}
    )
    cr = stitch.heuristic_credits(store, cfg, Window(at(0), at(2 * DAY)), cfg.business_metrics[0])
    w = np.array([2**-1, 2 * 2**-0.5, 1.0])
    expected = {
        "last_touch": [0, 0, 1],
        "first_touch": [1, 0, 0],
        "linear": [0.25, 0.5, 0.25],
        "position_based": [0.3, 0.2, 0.5],
        "time_decay": (w / w.sum()).tolist(),
    }
    for model, shares in expected.items():
        got = {v: c for (_, v, _), (c, _) in by_channel(cr, model).items()}
        np.testing.assert_allclose([got["v1"], got["v2"], got["v3"]], shares, rtol=1e-12, atol=1e-15)
        val = {v: x for (_, v, _), (_, x) in by_channel(cr, model).items()}
        assert sum(val.values()) == pytest.approx(10.0)


def test_last_touch_takes_latest_and_ties_go_by_prediction_id_hash(store: Any) -> None:
    # equal timestamps are ordered by cityHash64(ml.prediction.id): "p-c" < "p-b" by hash
    # (the reverse of their byte order), so p-b is the last and p-c the middle one
    assert oracle.tie_hash("p-c") < oracle.tie_hash("p-b")
    insert_predictions(
        store,
        [
            {"ts": 100, "user": "u1", "version": "v1", "pid": "p-a"},
            {"ts": 500, "user": "u1", "version": "v2", "pid": "p-b"},
            {"ts": 500, "user": "u1", "version": "v3", "pid": "p-c"},
        ],
    )
    insert_events(store, [{"ts": 600, "user": "u1", "value": 1.0}])
    cfg = make_config()
    cr = stitch.heuristic_credits(store, cfg, Window(at(0), at(DAY)), cfg.business_metrics[0])
    last = {v: c for (_, v, _), (c, _) in by_channel(cr, "last_touch").items()}
    first = {v: c for (_, v, _), (c, _) in by_channel(cr, "first_touch").items()}
    assert last == {"v1": 0.0, "v2": 1.0, "v3": 0.0}
    assert first == {"v1": 1.0, "v2": 0.0, "v3": 0.0}
    pos = {v: c for (_, v, _), (c, _) in by_channel(cr, "position_based").items()}
    # order (100, p-a), (500, p-c), (500, p-b): p-c (v3) is the middle one
    assert pos == pytest.approx({"v1": 0.4, "v3": 0.2, "v2": 0.4})


def test_window_edges_and_clock_skew(store: Any) -> None:
    w = 2 * DAY
    t = 5 * DAY
    insert_predictions(
        store,
        [
            {"ts": t - w, "user": "edge", "version": "at_edge"},  # exactly t - window: counts
            {"ts": t - w - 0.001, "user": "edge", "version": "too_early"},
            {"ts": t, "user": "edge", "version": "same_instant"},  # ts == outcome ts: counts
            {"ts": t + 0.001, "user": "edge", "version": "after"},  # clock skew: never credited
            {"ts": t + 60, "user": "skew", "version": "after"},
        ],
    )
    insert_events(store, [{"ts": t, "user": "edge", "value": 4.0}, {"ts": t, "user": "skew", "value": 3.0}])
    cfg = make_config()
    cr = stitch.heuristic_credits(store, cfg, WINDOW, cfg.business_metrics[0])
    lin = {v: c for (_, v, _), (c, _) in by_channel(cr, "linear").items()}
    assert lin == pytest.approx({"at_edge": 0.5, "same_instant": 0.5})
    assert cr.unattributed_outcomes == 1 and cr.unattributed_value == pytest.approx(3.0)


def test_outcomes_without_key_before_predictions_and_late(store: Any) -> None:
    insert_predictions(store, [{"ts": 4 * DAY, "user": "u1"}, {"ts": 8.5 * DAY, "user": "u2"}])
    insert_events(
        store,
        [
            {"ts": 4.5 * DAY, "user": "", "value": 1.0},  # no key
            {"ts": 5 * DAY, "user": "u2", "value": 2.0},  # before u2's only prediction
            {"ts": 7 * DAY, "user": "u1", "value": 5.0},  # 3 days after: outside the 2d join window
            {"ts": 4.5 * DAY, "user": "u1", "value": 7.0},  # attributed
            {"ts": 9.5 * DAY, "user": "u2", "value": 9.0},  # late: after the analysed window
            {"ts": 2 * DAY, "user": "u1", "value": 9.0},  # before the analysed window
        ],
    )
    cfg = make_config()
    cr = stitch.heuristic_credits(store, cfg, WINDOW, cfg.business_metrics[0])
    assert cr.attributed_outcomes == 1 and cr.attributed_value == pytest.approx(7.0)
    assert cr.unattributed_outcomes == 3 and cr.unattributed_value == pytest.approx(8.0)


def test_no_predictions_and_no_outcomes(store: Any) -> None:
    cfg = make_config()
    empty = stitch.heuristic_credits(store, cfg, WINDOW, cfg.business_metrics[0])
    assert empty.attributed_outcomes == 0 and empty.unattributed_outcomes == 0 and len(empty.model_name) == 0
    insert_events(store, [{"ts": 4 * DAY, "user": "u1", "value": 2.0}])
    no_preds = stitch.heuristic_credits(store, cfg, WINDOW, cfg.business_metrics[0])
    assert no_preds.unattributed_outcomes == 1 and no_preds.attributed_outcomes == 0
    paths = stitch.channel_paths(store, cfg, WINDOW, cfg.business_metrics[0])
    assert paths.paths == ()


def test_user_with_10000_predictions(store: Any) -> None:
    rng = np.random.default_rng(11)
    n = 10_000
    ts = np.sort(rng.integers(0, int(9 * DAY), size=n))
    ver = rng.choice(["v1", "v2"], size=n)
    adj = rng.choice([1.0, 3.0], size=n)
    insert_predictions(
        store,
        [{"ts": int(ts[i]), "user": "heavy", "version": str(ver[i]), "pid": f"p{i:05d}", "adjusted": adj[i],
          "segments": {"platform": "web"}} for i in range(n)],
    )  # fmt: skip
    o_ts = np.array([3.5, 4.25, 6.0, 8.9]) * DAY
    insert_events(store, [{"ts": float(t), "user": "heavy", "value": 10.0} for t in o_ts])
    cfg = make_config()
    cr = stitch.heuristic_credits(store, cfg, WINDOW, cfg.business_metrics[0])
    ids = np.array([f"p{i:05d}" for i in range(n)], dtype=object)
    ref = oracle.stitch(np.full(n, "heavy", dtype=object), ts.astype(float), ids, adj,
                        np.full(4, "heavy", dtype=object), o_ts, window=2 * DAY, start=3 * DAY, end=9 * DAY,
                        half_life=DAY)  # fmt: skip
    for model in oracle.MODELS:
        got = {v: c for (_, v, _), (c, _) in by_channel(cr, model).items()}
        for version in ("v1", "v2"):
            want = ref.credit[model][ver[ref.prediction] == version].sum()
            assert got.get(version, 0.0) == pytest.approx(want, rel=1e-9, abs=1e-12)


def test_sampling_weights_make_linear_credit_proportional(store: Any) -> None:
    insert_predictions(
        store,
        [
            {"ts": 10, "user": "u", "version": "sampled", "adjusted": 4.0},
            {"ts": 20, "user": "u", "version": "full"},
        ],
    )
    # a TraceState threshold: th:8 -> T = 2^55 -> adjusted count 2 (OTel probability sampling)
    store.insert(
        semconv.TABLE_TRACES,
        [[at(30), "f" * 32, "e" * 16, "ot=th:8", "predict ranker",
          {semconv.ML_MODEL_NAME: "ranker", semconv.ML_MODEL_VERSION: "th", semconv.USER_ID: "u",
           semconv.ML_PREDICTION_ID: "zz"}]],
        column_names=["Timestamp", "TraceId", "SpanId", "TraceState", "SpanName", "SpanAttributes"],
    )  # fmt: skip
    insert_events(store, [{"ts": 40, "user": "u", "value": 7.0}])
    cfg = make_config()
    cr = stitch.heuristic_credits(store, cfg, Window(at(0), at(DAY)), cfg.business_metrics[0])
    lin = {v: c for (_, v, _), (c, _) in by_channel(cr, "linear").items()}
    assert lin == pytest.approx({"sampled": 4 / 7, "full": 1 / 7, "th": 2 / 7})


def test_session_key_and_count_metric(store: Any) -> None:
    insert_predictions(
        store,
        [{"ts": 10, "user": "u1", "session": "s1", "version": "v1"},
         {"ts": 20, "user": "u1", "session": "s2", "version": "v2"}],
    )  # fmt: skip
    insert_events(store, [{"ts": 30, "user": "u1", "session": "s1", "value": 50.0}], name="business.signup")
    cfg = config_from_dict(
        {"business_metrics": [{"name": "signup", "source": {"event": "business.signup"}, "key": "session.id",
                               "value": "count"}]}
    )  # fmt: skip
    cr = stitch.heuristic_credits(store, cfg, Window(at(0), at(DAY)), cfg.business_metrics[0])
    last = {v: (c, x) for (_, v, _), (c, x) in by_channel(cr, "last_touch").items()}
    assert last == {"v1": (1.0, 1.0)}  # session s1 only; count metric: value 1


def test_sql_source_and_identity_mapping(store: Any) -> None:
    store.command(
        "CREATE TABLE shop_orders (order_ts DateTime64(3), customer String, amount Float64) ENGINE = Memory"
    )
    store.command("CREATE TABLE crm_ids (email String, uid String) ENGINE = Memory")
    store.insert("shop_orders", [[at(100), "a@x.io", 12.5], [at(200), "u2", 5.0], [at(300), "zz@x.io", 1.0]],
                 column_names=["order_ts", "customer", "amount"])  # fmt: skip
    store.insert("crm_ids", [["a@x.io", "u1"]], column_names=["email", "uid"])
    insert_predictions(
        store, [{"ts": 50, "user": "u1", "version": "v1"}, {"ts": 150, "user": "u2", "version": "v2"}]
    )
    cfg = config_from_dict(
        {
            "business_metrics": [
                {"name": "purchase", "source": {"event": "business.purchase"}},
                {"name": "order", "source": {"sql": "SELECT * FROM shop_orders;",
                                             "columns": {"ts": "order_ts", "key": "customer", "value": "amount"}}},
            ],
            "identity": {"sql": "SELECT email, uid FROM crm_ids", "columns": {"other_id": "email", "user_id": "uid"}},
        }
    )  # fmt: skip
    cr = stitch.heuristic_credits(store, cfg, Window(at(0), at(DAY)), cfg.business_metrics[1])
    last = {v: (c, x) for (_, v, _), (c, x) in by_channel(cr, "last_touch").items()}
    assert last == {"v1": (1.0, 12.5), "v2": (1.0, 5.0)}
    assert cr.unattributed_outcomes == 1  # zz@x.io maps to nobody


def test_sql_source_missing_column_names_the_config_key(store: Any) -> None:
    store.command("CREATE TABLE shop_orders (order_ts DateTime, customer String) ENGINE = Memory")
    cfg = config_from_dict(
        {
            "business_metrics": [
                {"name": "purchase", "source": {"event": "business.purchase"}},
                {"name": "order", "source": {"sql": "SELECT * FROM shop_orders",
                                             "columns": {"ts": "order_ts", "key": "customer", "value": "amount"}}},
            ]
        }
    )  # fmt: skip
    with pytest.raises(ConfigError) as info:
        stitch.heuristic_credits(store, cfg, WINDOW, cfg.business_metrics[1])
    assert info.value.path == "business_metrics[1].source.columns.value"
    assert "amount" in str(info.value)
    bad = config_from_dict(
        {"business_metrics": [{"name": "o", "source": {"sql": "SELECT * FROM no_such_table"}}]}
    )
    with pytest.raises(ConfigError) as info2:
        stitch.heuristic_credits(store, bad, WINDOW, bad.business_metrics[0])
    assert info2.value.path == "business_metrics[0].source.sql"


def test_channel_paths_converting_and_non_converting(store: Any) -> None:
    insert_predictions(
        store,
        [
            {"ts": 4 * DAY, "user": "a", "version": "v1", "pid": "1"},
            {"ts": 4.1 * DAY, "user": "a", "version": "v1", "pid": "2"},
            {"ts": 4.2 * DAY, "user": "a", "version": "v2", "pid": "3"},
            {"ts": 5 * DAY, "user": "b", "version": "v2", "pid": "4"},  # never converts
            {"ts": 8 * DAY, "user": "a", "version": "v1", "pid": "5"},  # after a's outcome window
        ],
    )
    insert_events(store, [{"ts": 4.5 * DAY, "user": "a", "value": 6.0}])
    cfg = make_config()
    p = stitch.channel_paths(store, cfg, WINDOW, cfg.business_metrics[0])
    named = {tuple(p.channels[c][1] for c in path): (c, v, n)
             for path, c, v, n in zip(p.paths, p.conversions, p.value, p.non_conversions, strict=True)}  # fmt: skip
    assert named == {("v1", "v2"): (1.0, 6.0, 0.0), ("v2",): (0.0, 0.0, 1.0), ("v1",): (0.0, 0.0, 1.0)}


def test_stitched_and_conversions_by_bucket(store: Any) -> None:
    insert_predictions(
        store,
        [
            {"ts": 3.2 * DAY, "user": "a", "version": "v1", "segments": {"platform": "web"}, "adjusted": 2},
            {"ts": 4.2 * DAY, "user": "b", "version": "v1", "segments": {"platform": "mobile"}},
        ],
    )
    insert_events(store, [{"ts": 3.5 * DAY, "user": "a", "value": 8.0}])
    cfg = make_config()
    s = stitch.stitched_by_bucket(store, cfg, WINDOW, DAY)
    rows = {(str(b)[:10], k, v): (o, x) for b, k, v, o, x in
            zip(s["bucket"], s["segment_key"], s["segment_value"], s["outcomes"], s["value"], strict=True)}  # fmt: skip
    assert rows == {("2026-11-04", "", ""): (1.0, 8.0), ("2026-11-04", "platform", "web"): (1.0, 8.0)}
    assert set(s["business_metric"]) == {"purchase"}
    c = stitch.conversions_by_bucket(store, cfg, WINDOW, DAY)
    conv = {(str(b)[:10], k, v): (p, x) for b, k, v, p, x in
            zip(c["bucket"], c["segment_key"], c["segment_value"], c["predictions"], c["converted"], strict=True)}  # fmt: skip
    assert conv[("2026-11-04", "", "")] == (2.0, 2.0)
    assert conv[("2026-11-05", "platform", "mobile")] == (1.0, 0.0)
    with pytest.raises(ValueError, match="model"):
        stitch.stitched_by_bucket(store, cfg, WINDOW, DAY, model="markov")
    with pytest.raises(ValueError, match="bucket_s"):
        stitch.conversions_by_bucket(store, cfg, WINDOW, 0)
