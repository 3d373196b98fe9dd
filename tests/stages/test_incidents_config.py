"""Config of the incidents stage: lineage, pipelines, incidents (typed values, dotted-key errors)."""

from __future__ import annotations

import pytest

from otel_impact.analyze.linking import Lineage as LinkLineage
from otel_impact.config import load_config_text
from otel_impact.errors import ConfigError

EXAMPLE = """
lineage:
  models: {ranker: {features: [user_ctr, item_pop]}}
  features: {user_ctr: {datasets: [clicks]}, item_pop: {datasets: [catalog]}}
  datasets: {clicks: {pipelines: [features_daily]}, catalog: {pipelines: [catalog_sync]}}
pipelines:
  features_daily: {schedule: 1d, grace: 2h}
incidents:
  metrics: [auc, accuracy, mean_score]
  link_window: 3d
  bucket: 1d
"""


def test_issue_example_parses_to_typed_values() -> None:
    cfg = load_config_text(EXAMPLE)
    assert cfg.pipelines["features_daily"].schedule == 86400.0
    assert cfg.pipelines["features_daily"].grace == 7200.0
    assert cfg.incidents.metrics == ("auc", "accuracy", "mean_score")
    assert cfg.incidents.link_window == 3 * 86400.0
    assert cfg.incidents.period == 7  # default season 7d over 1d buckets
    lin = LinkLineage.from_maps(*cfg.lineage.maps())
    assert lin.datasets["ranker"] == {"clicks", "catalog"}
    assert lin.pipelines["ranker"] == {"features_daily", "catalog_sync"}


def test_defaults_keep_existing_configs_valid() -> None:
    cfg = load_config_text("segments: [platform]")
    assert cfg.pipelines == {} and cfg.lineage.models == {}
    assert cfg.incidents.enabled and cfg.incidents.drift.reference == 7 * 86400.0


def test_season_period_in_buckets() -> None:
    assert load_config_text("incidents: {bucket: 1h, season: 1d}").incidents.period == 24
    assert load_config_text("incidents: {bucket: 1d, season: null}").incidents.period is None
    assert load_config_text("incidents: {bucket: 7d}").incidents.period is None


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("incidents: {bogus: 1}", "incidents.bogus"),
        ("incidents: {metrics: [auc, nope]}", "incidents.metrics[1]"),
        ("incidents: {metrics: [auc, auc]}", "incidents.metrics"),
        ("incidents: {bucket: 0s}", "incidents.bucket"),
        ("incidents: {link_window: soon}", "incidents.link_window"),
        ("incidents: {alpha: 1.5}", "incidents.alpha"),
        ("incidents: {drift: {bins: 1}}", "incidents.drift.bins"),
        ("incidents: {drift: {reference: 0d}}", "incidents.drift.reference"),
        ("pipelines: {p: {schedule: 0s}}", "pipelines.p.schedule"),
        ("pipelines: {p: {schedule: 1d, every: 2}}", "pipelines.p.every"),
        ("lineage: {models: {m: {features: [x]}}}", "lineage"),
        ("lineage: {models: {m: {feature: [x]}}}", "lineage.models.m.feature"),
    ],
)
def test_errors_name_the_dotted_key(text: str, path: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config_text(text)
    assert info.value.path == path


def test_undeclared_feature_message_names_the_model_key() -> None:
    with pytest.raises(ConfigError, match=r"models\.m\.features names undeclared feature\(s\) x"):
        load_config_text("lineage: {models: {m: {features: [x]}}}")


def test_docstring_examples_run() -> None:
    import doctest

    from otel_impact.config import incidents as cfg_mod
    from otel_impact.store import incidents as store_mod

    for mod in (cfg_mod, store_mod):
        result = doctest.testmod(mod)
        assert result.attempted > 0 and result.failed == 0, mod.__name__
