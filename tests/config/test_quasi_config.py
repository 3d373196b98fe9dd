"""``rollout_impact`` config: defaults, explicit rollouts, errors naming the dotted key."""

from __future__ import annotations

import pytest

from otel_impact.config import config_from_dict
from otel_impact.errors import ConfigError


def test_defaults() -> None:
    cfg = config_from_dict({}).rollout_impact
    assert cfg.enabled and cfg.measure == "value" and cfg.season == 7 and cfg.max_pre_rmspe == 0.10
    assert cfg.rollouts == ()


def test_explicit_rollouts() -> None:
    cfg = config_from_dict(
        {"rollout_impact": {"rollouts": [{"name": "w", "at": "2026-11-01T00:00:00Z"},
                                         {"segments": {"de": "2026-11-03T00:00:00+00:00"}}]}}
    ).rollout_impact  # fmt: skip
    assert cfg.rollouts[0].at is not None and cfg.rollouts[1].segments["de"].day == 3


@pytest.mark.parametrize(
    ("section", "path"),
    [
        ({"rollouts": [{"name": "w"}]}, "rollout_impact.rollouts"),
        ({"rollouts": [{"at": "2026-11-01T00:00:00"}]}, "rollout_impact.rollouts"),
        ({"measure": "revenue"}, "rollout_impact.measure"),
        ({"max_pre_rmspe": 0}, "rollout_impact.max_pre_rmspe"),
        ({"season": 0}, "rollout_impact.season"),
        ({"unknown": 1}, "rollout_impact.unknown"),
    ],
)
def test_errors_name_the_key(section: dict, path: str) -> None:
    with pytest.raises(ConfigError) as err:
        config_from_dict({"rollout_impact": section})
    assert (err.value.path or "").startswith(path)
