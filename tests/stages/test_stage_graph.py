"""The declared stage graph: ordering, start-up failures, and that every stage's reads and writes
of ``ctx.cache`` / ``ctx.result`` are declared (checked on a real run of the demo world)."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from store_testing import document_differences

from otel_impact import semconv
from otel_impact.config import load_config
from otel_impact.context import JobContext, Window
from otel_impact.pipeline import LISTED, STAGES, analyze
from otel_impact.stages.graph import Stage, StageGraphError, UndeclaredAccess, order_stages, run_guarded

T0, T1 = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC)


def _noop(ctx: Any) -> None:
    return None


def test_run_order_is_the_listed_order() -> None:
    # the declarations admit the order the stages always ran in, so nothing moved
    assert [s.name for s in STAGES] == [s.name for s in LISTED]
    assert [s.name for s in STAGES] == [
        "llm_settings",
        "tracking_plan",
        "stitching",
        "attribution",
        "series",
        "llm",
        "correlation",
        "deployments",
        "resources",
        "lift",
        "rollout_impact",
        "incidents",
        "slos",
        "alert_rules",
    ]


def test_producers_run_before_consumers_whatever_the_listing() -> None:
    # list lift first: it moves after everything it needs, the others keep their order
    lift = next(s for s in LISTED if s.name == "lift")
    listed = [lift, *(s for s in LISTED if s is not lift)]
    order = [s.name for s in order_stages(listed)]
    position = {name: i for i, name in enumerate(order)}
    for s in STAGES:
        for other in STAGES:
            if other is not s and (s.needs | s.adds) & other.gives:
                assert position[other.name] < position[s.name], (other.name, s.name)
    assert order.index("lift") == order.index("resources") + 1
    # adders of the shared alerts list run in their listed order (lift now first of them)
    adders = [s.name for s in listed if "result.alerts" in s.adds]
    assert adders[0] == "lift" and [n for n in order if n in adders] == adders


def test_missing_producer_fails_at_start_up() -> None:
    with pytest.raises(StageGraphError, match=r"stage 'b' needs cache\.x, which no stage gives or adds"):
        order_stages([Stage("b", _noop, needs=frozenset({"cache.x"}))])


def test_cycle_fails_at_start_up() -> None:
    a = Stage("a", _noop, needs=frozenset({"cache.y"}), gives=frozenset({"cache.x"}))
    b = Stage("b", _noop, needs=frozenset({"cache.x"}), gives=frozenset({"cache.y"}))
    with pytest.raises(StageGraphError, match="cycle among: a, b"):
        order_stages([a, b])


def test_one_producer_per_item_and_unique_names() -> None:
    a = Stage("a", _noop, gives=frozenset({"result.x"}))
    with pytest.raises(StageGraphError, match="given by both 'a' and stage 'b'"):
        order_stages([a, Stage("b", _noop, gives=frozenset({"result.x"}))])
    with pytest.raises(StageGraphError, match="unique: a"):
        order_stages([a, a])
    with pytest.raises(StageGraphError, match="the pipeline"):
        order_stages([Stage("w", _noop, gives=frozenset({"result.window"}))])


def test_stage_validates_its_declarations() -> None:
    with pytest.raises(ValueError, match=r"cache\.<key> or result\.<section>"):
        Stage("a", _noop, needs=frozenset({"series"}))
    with pytest.raises(TypeError, match="not a string"):
        Stage("a", _noop, needs="cache.x")  # type: ignore[arg-type]


def _ctx(**cache: Any) -> JobContext:
    return JobContext(client=None, config=None, window=Window(T0, T1), cache=dict(cache))  # type: ignore[arg-type]


def test_guard_refuses_undeclared_reads_and_writes() -> None:
    def reads(ctx: Any) -> None:
        ctx.cache.get("secret")

    def writes(ctx: Any) -> None:
        ctx.result["mine"] = 1
        ctx.result["other"] = 2

    with pytest.raises(UndeclaredAccess, match=r"stage 'r' reads cache\.secret"):
        run_guarded(Stage("r", reads), _ctx(secret=1))
    ctx = _ctx()
    with pytest.raises(UndeclaredAccess, match=r"stage 'w' writes result\.other"):
        run_guarded(Stage("w", writes, gives=frozenset({"result.mine"})), ctx)
    assert ctx.result == {"mine": 1}  # what it did write before failing is kept, as unguarded


def test_guard_passes_declared_access_through_in_order() -> None:
    def stage(ctx: Any) -> None:
        ctx.result.setdefault("alerts", []).append(ctx.cache["x"])
        ctx.result["z"] = 1

    ctx = _ctx(x=5)
    ctx.result.update({"window": {}, "alerts": [1]})
    run_guarded(
        Stage(
            "s",
            stage,
            needs=frozenset({"cache.x"}),
            gives=frozenset({"result.z"}),
            adds=frozenset({"result.alerts"}),
        ),
        ctx,
    )
    assert list(ctx.result.items()) == [("window", {}), ("alerts", [1, 5]), ("z", 1)]
    assert isinstance(ctx.result, dict) and type(ctx.result) is dict


@pytest.fixture(scope="module")
def demo_run(engine_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A small demo world (main + LLM parts) in a fresh database, and its outcome."""
    import clickhouse_connect

    from otel_impact.demo.run import DemoOptions, run_demo

    dsn = os.environ.get(semconv.ENV_TEST_CLICKHOUSE_DSN) or "chdb://memory"
    name = "t_graph_" + uuid.uuid4().hex[:10]
    out = tmp_path_factory.mktemp("graph-demo")
    end = datetime(2026, 11, 20, tzinfo=UTC)
    outcome = run_demo(
        DemoOptions(users=600, days=7, seed=3, dsn=dsn, database=name, out=out, end=end, workers=0)
    )
    client = clickhouse_connect.get_client(dsn=dsn, database=name)
    try:
        yield outcome, client, out
    finally:
        engine_client.command(f"DROP DATABASE IF EXISTS {name} SYNC")


@pytest.mark.slow
@pytest.mark.parametrize("config_name", ["impact.yaml", "llm-impact.yaml"])
def test_every_stage_access_is_declared_on_a_real_run(demo_run: Any, config_name: str) -> None:
    outcome, client, out = demo_run
    path = out / config_name
    if not path.exists():
        pytest.skip(f"{config_name} not written by this build of the demo")
    config = load_config(path)
    window = Window(outcome.params.start, outcome.params.end)
    guarded = analyze(client, config, window, seed=3, check_access=True).to_json()
    plain = analyze(client, config, window, seed=3).to_json()
    assert not [w for w in guarded["warnings"] if "failed" in w]
    # the guard changes nothing, not even key order
    assert document_differences(guarded, plain, rel=1e-9, abs_tol=1e-12, key_order=True) == []
