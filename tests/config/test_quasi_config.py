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
        ({"predictors": [{"metric": "price", "buckets": [-3, 0]}]}, "rollout_impact.predictors[0].buckets"),
        ({"predictors": [{"metric": "price", "buckets": [-1, -3]}]}, "rollout_impact.predictors[0].buckets"),
        ({"predictors": [{"metric": "price"}]}, "rollout_impact.predictors[0].buckets"),
        (
            {"predictors": [{"metric": "price", "buckets": [-3, -1], "mean": 1}]},
            "rollout_impact.predictors[0].mean",
        ),
        ({"outcome_lags": [-2, 1]}, "rollout_impact.outcome_lags"),
        ({"outcome_lags": [-2, -2]}, "rollout_impact.outcome_lags"),
    ],
)
def test_errors_name_the_key(section: dict, path: str) -> None:
    with pytest.raises(ConfigError) as err:
        config_from_dict({"rollout_impact": section})
    assert (err.value.path or "").startswith(path)


def test_predictors() -> None:
    metrics = [{"name": n, "source": {"event": f"business.{n}"}} for n in ("sales", "price")]
    cfg = config_from_dict(
        {"business_metrics": metrics, "rollout_impact": {
            "predictors": [{"metric": "price", "buckets": [-9, -1], "measure": "events"}], "outcome_lags": [-5, -1]}}
    ).rollout_impact  # fmt: skip
    assert cfg.predictors[0].metric == "price" and cfg.predictors[0].buckets == (-9, -1)
    assert cfg.predictors[0].measure == "events" and cfg.outcome_lags == (-5, -1)
    assert config_from_dict({}).rollout_impact.predictors == ()


def test_predictor_metric_must_be_configured() -> None:
    metrics = [{"name": "price", "source": {"event": "business.price"}}]
    with pytest.raises(ConfigError) as err:
        config_from_dict({"business_metrics": metrics,
                          "rollout_impact": {"predictors": [{"metric": "prices", "buckets": [-3, -1]}]}})  # fmt: skip
    assert err.value.path == "rollout_impact.predictors[0].metric"
    assert "did you mean 'price'" in str(err.value)
