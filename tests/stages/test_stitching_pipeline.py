"""The analyzer job around stitching: pipeline.analyze JSON, the attribution stage, the CLI."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from stitch_store import emptied_store, module_store  # noqa: F401  (fixtures: a shared `store`)

from otel_impact import pipeline, semconv
from otel_impact.cli.main import cli
from otel_impact.config import config_from_dict
from otel_impact.errors import AnalysisError, ConfigError
from otel_impact.pipeline import JobContext, Window, analyze, iso_utc, parse_iso, to_jsonable
from otel_impact.stages import attribution as attribution_stage
from otel_impact.stages import stitching as stitching_stage
from otel_impact.stages.graph import Stage

BASE = datetime(2026, 11, 1, tzinfo=UTC)
DAY = 86400.0


def at(seconds: float) -> datetime:
    return BASE + timedelta(seconds=seconds)


def _spans(client: Any, rows: list[tuple[float, str, str, str, str]]) -> None:
    data = []
    for i, (ts, user, version, pid, platform) in enumerate(rows):
        attrs = {
            semconv.ML_MODEL_NAME: "ranker",
            semconv.ML_MODEL_VERSION: version,
            semconv.ML_PREDICTION_ID: pid,
            semconv.USER_ID: user,
            semconv.segment_attribute("platform"): platform,
        }
        data.append([at(ts), f"{i:032x}", f"{i:016x}", "predict ranker", attrs])
    client.insert(
        semconv.TABLE_TRACES,
        data,
        column_names=["Timestamp", "TraceId", "SpanId", "SpanName", "SpanAttributes"],
    )


def _events(client: Any, rows: list[tuple[float, str, float]], name: str = "business.purchase") -> None:
    data = [[at(ts), name, {semconv.USER_ID: u, semconv.BUSINESS_VALUE: repr(v)}] for ts, u, v in rows]
    client.insert(semconv.TABLE_LOGS, data, column_names=["Timestamp", "EventName", "LogAttributes"])


CONFIG = {
    "business_metrics": [
        {"name": "purchase", "source": {"event": "business.purchase"}, "window": "2d"},
        {
            "name": "subscription",
            "source": {"event": "business.subscription"},
            "window": "30d",
            "value": "count",
        },
    ],
    "segments": ["platform"],
}


def _seed(client: Any) -> None:
    _spans(
        client,
        [
            (0.5 * DAY, "a", "v1", "1", "mobile"),
            (1.0 * DAY, "a", "v2", "2", "web"),
            (1.2 * DAY, "b", "v2", "3", "web"),
            (2.0 * DAY, "c", "v1", "4", "mobile"),
        ],
    )
    _events(client, [(1.5 * DAY, "a", 30.0), (1.3 * DAY, "b", 12.0), (2.5 * DAY, "zz", 5.0)])


def test_analyze_produces_the_json_contract(store: Any) -> None:
    _seed(store)
    cfg = config_from_dict(CONFIG)
    seen: list[str] = []
    result = analyze(store, cfg, Window(at(0), at(3 * DAY)), progress=seen.append).to_json()
    assert seen.index("stitching") < seen.index("attribution")
    json.dumps(result, allow_nan=False)  # strictly JSON
    assert result["window"] == {"start": "2026-11-01T00:00:00Z", "end": "2026-11-04T00:00:00Z"}
    purchase = next(r for r in result["stitching"] if r["business_metric"] == "purchase")
    assert purchase == {
        "business_metric": "purchase", "key": "user.id", "window_s": 172800.0, "outcomes": 3,
        "attributed_outcomes": 2, "unattributed_outcomes": 1, "value_total": 47.0,
        "attributed_value": 42.0, "unattributed_value": 5.0,
    }  # fmt: skip
    subs = next(r for r in result["stitching"] if r["business_metric"] == "subscription")
    assert subs["outcomes"] == 0
    assert any("subscription" in w for w in result["warnings"])

    rows = [r for r in result["attribution"] if r["business_metric"] == "purchase"]
    models = {r["model"] for r in rows}
    assert models == {
        "last_touch",
        "first_touch",
        "linear",
        "position_based",
        "time_decay",
        "markov",
        "shapley",
    }
    for model in models:
        all_users = [r for r in rows if r["model"] == model and r["segment"] == {}]
        assert sum(r["value"] for r in all_users) == pytest.approx(42.0), model
        assert sum(r["credit"] for r in all_users) == pytest.approx(2.0), model
        if model not in ("markov", "shapley"):
            by_segment = [r for r in rows if r["model"] == model and r["segment"]]
            assert sum(r["value"] for r in by_segment) == pytest.approx(42.0), model
    last = {(r[semconv.ML_MODEL_VERSION], tuple(r["segment"].items())): r["value"] for r in rows
            if r["model"] == "last_touch"}  # fmt: skip
    assert last[("v2", ())] == pytest.approx(42.0)
    assert last[("v2", (("platform", "web"),))] == pytest.approx(42.0)
    first = {
        r[semconv.ML_MODEL_VERSION]: r["value"]
        for r in rows
        if r["model"] == "first_touch" and not r["segment"]
    }
    assert first == pytest.approx({"v1": 30.0, "v2": 12.0})


@pytest.fixture()
def part1_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run only the stitching and attribution stages (the other stages have their own tests)."""
    monkeypatch.setattr(
        pipeline, "STAGES", [s for s in pipeline.STAGES if s.name in ("stitching", "attribution")]
    )


@pytest.mark.usefixtures("part1_only")
def test_analyze_is_deterministic_and_respects_configured_models(store: Any) -> None:
    _seed(store)
    cfg = config_from_dict({**CONFIG, "attribution": {"models": ["linear", "shapley"]}})
    w = Window(at(0), at(3 * DAY))
    one, two = analyze(store, cfg, w).to_json(), analyze(store, cfg, w).to_json()
    assert one == two
    assert {r["model"] for r in one["attribution"]} == {"linear", "shapley"}


@pytest.mark.usefixtures("part1_only")
def test_models_filter_limits_predictions(store: Any) -> None:
    _seed(store)
    cfg = config_from_dict({**CONFIG, "models": ["other-model"]})
    result = analyze(store, cfg, Window(at(0), at(3 * DAY))).to_json()
    purchase = next(r for r in result["stitching"] if r["business_metric"] == "purchase")
    assert purchase["attributed_outcomes"] == 0 and purchase["unattributed_outcomes"] == 3


@pytest.mark.usefixtures("part1_only")
def test_empty_store_and_no_metrics(store: Any) -> None:
    result = analyze(store, config_from_dict(CONFIG), Window(at(0), at(DAY))).to_json()
    assert all(r["outcomes"] == 0 for r in result["stitching"])
    assert result["attribution"] == []
    bare = analyze(store, config_from_dict({}), Window(at(0), at(DAY))).to_json()
    assert bare["stitching"] == [] and bare["attribution"] == []


def test_stage_failure_becomes_analysis_error(monkeypatch: pytest.MonkeyPatch, store: Any) -> None:
    def broken(ctx: JobContext) -> None:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(pipeline, "STAGES", [Stage("broken", broken)])
    with pytest.raises(AnalysisError, match="broken"):
        analyze(store, config_from_dict({}), Window(at(0), at(DAY)))


def test_window_validation_and_json_helpers() -> None:
    with pytest.raises(ValueError, match="end"):
        Window(at(10), at(0))
    with pytest.raises(ValueError, match="timezone-aware"):
        Window(datetime(2026, 1, 1), datetime(2026, 1, 2))
    assert Window.ending(at(DAY), DAY).start == at(0)
    assert iso_utc(at(0)) == "2026-11-01T00:00:00Z"
    assert parse_iso("2026-11-01") == at(0)
    assert parse_iso("2026-11-01T02:00:00+02:00") == at(0)
    with pytest.raises(ValueError, match="ISO"):
        parse_iso("yesterday")
    doc = to_jsonable(
        {"x": math.nan, "y": np.float64(1.5), "z": np.arange(2), "t": (at(0),), "i": np.int64(3)}
    )
    assert doc == {"x": None, "y": 1.5, "z": [0, 1], "t": ["2026-11-01T00:00:00Z"], "i": 3}


def test_stage_modules_write_their_sections(store: Any) -> None:
    _seed(store)
    ctx = JobContext(client=store, config=config_from_dict(CONFIG), window=Window(at(0), at(3 * DAY)))
    stitching_stage.run(ctx)
    assert set(ctx.cache[stitching_stage.CACHE_KEY]) == {"purchase", "subscription"}
    attribution_stage.run(ctx)
    assert ctx.result["attribution"] and ctx.result["stitching"]


@pytest.mark.usefixtures("part1_only")
def test_shapley_skipped_with_warning_beyond_channel_limit(store: Any) -> None:
    _spans(store, [(0.1 * DAY * (i + 1), "a", f"v{i}", str(i), "web") for i in range(3)])
    _events(store, [(0.5 * DAY, "a", 9.0)])
    cfg = config_from_dict(
        {**CONFIG, "attribution": {"models": ["shapley", "markov"], "max_channels_shapley": 2}}
    )
    result = analyze(store, cfg, Window(at(0), at(DAY))).to_json()
    assert {r["model"] for r in result["attribution"]} == {"markov"}
    assert any("max_channels_shapley" in w for w in result["warnings"])


def test_cli_analyze_writes_json(store: Any, tmp_path: Path) -> None:
    _seed(store)
    config = tmp_path / "impact.yaml"
    config.write_text(
        "business_metrics:\n  - name: purchase\n    source: {event: business.purchase}\n    window: 2d\n"
        "segments: [platform]\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.json"
    res = CliRunner().invoke(
        cli,
        ["analyze", "--config", str(config), "--dsn", "chdb://memory", "--database", store.database,
         "--since", "2026-11-01T00:00:00Z", "--until", "2026-11-04", "--json", str(out), "--no-export"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["stitching"][0]["attributed_outcomes"] == 2
    assert "purchase" in res.output


def test_cli_analyze_bad_window_and_bad_source(store: Any, tmp_path: Path) -> None:
    config = tmp_path / "impact.yaml"
    config.write_text(
        "business_metrics:\n  - name: o\n    source: {sql: 'SELECT 1 AS x', columns: {ts: x, key: x, value: nope}}\n",
        encoding="utf-8",
    )
    base = [
        "analyze",
        "--config",
        str(config),
        "--dsn",
        "chdb://memory",
        "--database",
        store.database,
        "--no-export",
    ]
    bad_window = CliRunner().invoke(cli, [*base, "--since", "2026-11-05", "--until", "2026-11-01"])
    assert bad_window.exit_code == ConfigError.exit_code
    assert "error:" in bad_window.output
    bad_source = CliRunner().invoke(cli, [*base, "--since", "2026-11-01", "--until", "2026-11-02"])
    assert bad_source.exit_code == ConfigError.exit_code
    assert "business_metrics[0].source.columns.value" in bad_source.output
