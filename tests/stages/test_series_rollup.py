"""The model, quality and business series SQL roll the all-versions and per-segment rows up from
per-cell aggregates; on a random world through the real store they give the same rows as the
row-wise forms that aggregated every prediction once per rollup, or per bucket x key
(tests/stages/sql/*_rowwise.sql)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from series_data import DAY, at, insert_events, insert_predictions

from otel_impact.config import config_from_dict
from otel_impact.pipeline import Window
from otel_impact.store import series

ROWWISE = Path(__file__).parent / "sql"
CONFIG = config_from_dict(
    {
        "segments": ["platform", "market"],
        "series": {"score_threshold": 0.4},
        "business_metrics": [{"name": "purchase", "source": {"event": "business.purchase"}}],
    }
)
WINDOW = Window(at(0), at(4 * DAY))


def _world(store: Any, seed: int, n: int = 900) -> None:
    rng = np.random.default_rng(seed)
    preds: list[dict[str, Any]] = []
    outcomes: list[dict[str, Any]] = []
    for i in range(n):
        segments = {}
        if rng.random() < 0.9:  # some predictions lack a segment value
            segments["platform"] = str(rng.choice(["ios", "android", "web"]))
        if rng.random() < 0.8:
            segments["market"] = str(rng.choice(["de", "fr"]))
        score = None if rng.random() < 0.05 else round(float(rng.random()), 1)  # ties in the AUC
        ts = float(rng.uniform(-0.2 * DAY, 4.2 * DAY))  # some outside the window
        preds.append(
            {
                "ts": ts,
                "user": f"u{rng.integers(0, 80)}",
                "model": str(rng.choice(["ranker", "ranker", "filter"])),
                "version": str(rng.choice(["v1", "v2", "v3"])),
                "pid": f"p{i}",
                "score": score,
                "ms": float(rng.choice([5.0, 10.0, 12.5, 40.0, 200.0])),  # ties in the quantiles
                "segments": segments,
                "adjusted": float(rng.choice([1.0, 1.0, 2.0, 3.5])),
            }
        )
        if rng.random() < 0.7:
            label = str(rng.choice(["1", "0", "true", "false"]))
            outcomes.append(
                {"ts": min(ts + 60, 4 * DAY - 1), "name": "ml.outcome", "pid": f"p{i}", "label": label}
            )
    for _ in range(n // 3):  # purchases: some by users without predictions, some without a user
        user = "" if rng.random() < 0.05 else f"u{rng.integers(0, 100)}"
        value = round(float(rng.gamma(2.0, 20.0)), 2)
        outcomes.append({"ts": float(rng.uniform(-0.2 * DAY, 4.2 * DAY)), "user": user, "value": value})
    insert_predictions(store, preds)
    insert_events(store, outcomes)


def _rowwise(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    text = (ROWWISE / f"series_{name}_rowwise.sql").read_text(encoding="utf-8")
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    original = series._sql
    monkeypatch.setattr(series, "_sql", lambda n: body if n == name else original(n))


def _same(new: dict[str, np.ndarray], old: dict[str, np.ndarray], min_rows: int) -> None:
    assert set(new) == set(old)
    assert len(new["bucket"]) == len(old["bucket"]) > min_rows
    for key, a in new.items():
        b = old[key]
        if a.dtype.kind in "fc":
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=key)
        else:
            assert (a == b).all(), key


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("query", ["model", "quality", "business"])
def test_rollup_from_cells_equals_the_rowwise_query(
    store: Any, monkeypatch: pytest.MonkeyPatch, seed: int, query: str
) -> None:
    _world(store, seed)

    def run() -> dict[str, np.ndarray]:
        if query == "business":
            return series.business_series(store, CONFIG, WINDOW, DAY, CONFIG.business_metrics[0])
        fn = series.model_series if query == "model" else series.quality_series
        return fn(store, CONFIG, WINDOW, DAY)

    new = run()
    with monkeypatch.context() as m:
        _rowwise(m, query)
        old = run()
    _same(new, old, 10 if query == "business" else 50)
    # the comparison sees every kind of row: all versions, each version, all users, each segment
    assert {"", "platform", "market"} <= set(new["segment_key"])
    if query != "business":
        assert {"", "v1", "v2", "v3"} <= set(new["model_version"])
    measure = {"model": "latency_p95_ms", "quality": "auc", "business": "conversion_rate"}[query]
    assert np.isfinite(new[measure]).sum() >= 10 and np.nanmax(new[measure]) > 0
