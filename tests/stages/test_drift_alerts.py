"""Drift alerts: one episode per distribution shift (hysteresis), none on a stable world."""

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


def _drift(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (a["state"], a["severity"], a["at"])
        for a in result["alerts"]
        if a["rule"] in ("drift", "drift_score")
    ]


def test_a_persistent_shift_is_one_drift_episode(shifted: Any) -> None:
    result = run(shifted)
    firing = [d for d in _drift(result) if d[0] == "firing"]
    assert len(firing) == 1, _drift(result)
    assert "2026-11-13" <= firing[0][2] <= "2026-11-16"  # the score lost its signal on day 13
    drifted = [r for r in result["data_quality"] if r["drift"]]
    assert len(drifted) > 5  # many drifted buckets, still one alert


def test_stable_world_has_no_drift_alert(stable: Any) -> None:
    result = run(stable)
    assert _drift(result) == []
