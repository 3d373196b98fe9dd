"""Drift and accuracy alerts on a real store: one episode per shift (persistence and hysteresis),
nothing on a stable world."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from test_incidents import _world, run


@pytest.fixture(scope="module")
def shifted(engine_client: Any) -> Iterator[Any]:
    yield from _world(engine_client)


@pytest.fixture(scope="module")
def stable(engine_client: Any) -> Iterator[Any]:
    yield from _world(engine_client, drop=False, events=False, seed=11)


@pytest.fixture(scope="module")
def shifted_result(shifted: Any) -> dict[str, Any]:
    return run(shifted)


@pytest.fixture(scope="module")
def stable_result(stable: Any) -> dict[str, Any]:
    return run(stable)


def _drift(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (a["state"], a["severity"], a["at"])
        for a in result["alerts"]
        if a["rule"] in ("drift", "drift_score")
    ]


def test_a_persistent_shift_is_one_drift_episode(shifted_result: dict[str, Any]) -> None:
    result = shifted_result
    firing = [d for d in _drift(result) if d[0] == "firing"]
    assert len(firing) == 1, _drift(result)
    assert "2026-11-13" <= firing[0][2] <= "2026-11-16"  # the score lost its signal on day 13
    drifted = [r for r in result["data_quality"] if r["drift"]]
    assert len(drifted) > 5  # many drifted buckets, still one alert


def test_stable_world_has_no_drift_or_accuracy_alert(stable_result: dict[str, Any]) -> None:
    assert _drift(stable_result) == []
    assert [a for a in stable_result["alerts"] if a["rule"] == "accuracy_drop"] == []


def test_accuracy_drop_fires_once_from_the_second_bad_day(shifted_result: dict[str, Any]) -> None:
    """The scores lose their signal on day 13 (accuracy ≈ 0.9 → 0.7): one episode, not after one
    bucket (2 of 3 buckets), and never before the drop."""
    acc = [(a["state"], a["at"]) for a in shifted_result["alerts"] if a["rule"] == "accuracy_drop"]
    firing = [at for state, at in acc if state == "firing"]
    assert len(firing) == 1, acc
    assert "2026-11-15" <= str(firing[0]) < "2026-11-18"
