"""Config sections job / export / tree / evaluation: defaults, durations, dotted-key errors."""

from __future__ import annotations

import pytest

from otel_impact.config import config_from_dict
from otel_impact.errors import ConfigError


def test_defaults_keep_existing_configs_valid() -> None:
    cfg = config_from_dict({})
    assert (cfg.job.name, cfg.job.lookback, cfg.job.first_run, cfg.job.lock_ttl) == (
        "impact",
        86400,
        30 * 86400,
        3600,
    )
    assert cfg.export.enabled and cfg.export.endpoint is None and cfg.export.retries == 3
    assert cfg.tree.root is None and cfg.evaluation.features == ()


def test_durations_and_values_parse() -> None:
    cfg = config_from_dict({"job": {"lookback": "2h", "first_run": "7d"},
                            "export": {"timeout": "500ms", "retry_backoff": "10ms", "protocol": "grpc",
                                       "endpoint": "https://otel.example:4317", "headers": {"x-token": "t"}}})  # fmt: skip
    assert cfg.job.lookback == 7200 and cfg.job.first_run == 7 * 86400
    assert (
        cfg.export.timeout == 0.5
        and cfg.export.retry_backoff == 0.01
        and cfg.export.headers == {"x-token": "t"}
    )


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"job": {"lookback": "soon"}}, "job.lookback"),
        ({"job": {"first_run": "0s"}}, "job.first_run"),
        ({"job": {"name": "a b"}}, "job.name"),
        ({"job": {"lockttl": "1h"}}, "job.lockttl"),
        ({"export": {"retires": 2}}, "export.retires"),
        ({"export": {"retries": -1}}, "export.retries"),
        ({"export": {"protocol": "thrift"}}, "export.protocol"),
        ({"export": {"endpoint": "collector:4318"}}, "export.endpoint"),
        ({"tree": {"bucket": "0s"}}, "tree.bucket"),
        ({"tree": {"root": {"name": "r", "source": {"event": "e", "agg": "median"}}}}, "tree.root.source.agg"),
        ({"tree": {"root": {"name": "r", "children": [{"name": "c", "owner": 3}]}}}, "tree.root.children[0].owner"),
        ({"evaluation": {"features": [{"name": "f", "offline": {"name": "auc", "threshold": 0.8},
                                       "online": {"series": "ctr", "threshold": 0.1}}]}},
         "evaluation.features[0].offline"),
        ({"evaluation": {"features": [{"name": "f", "offline": {"name": "auc", "value": 1, "threshold": 0.8},
                                       "online": {"series": "ctr", "lift": "x", "threshold": 0.1}}]}},
         "evaluation.features[0].online"),
    ],
)  # fmt: skip
def test_errors_name_the_dotted_key(data: dict, path: str) -> None:
    with pytest.raises(ConfigError) as err:
        config_from_dict(data)
    assert err.value.path == path


def test_duplicate_feature_names() -> None:
    feature = {"name": "f", "offline": {"name": "auc", "value": 1, "threshold": 0.8},
               "online": {"lift": "purchase", "threshold": 0.1}}  # fmt: skip
    with pytest.raises(ConfigError, match="repeated: f") as err:
        config_from_dict({"evaluation": {"features": [feature, feature]}})
    assert err.value.path == "evaluation"


def test_operations_guide_examples_are_valid_config() -> None:
    import re
    from pathlib import Path

    import yaml

    text = (Path(__file__).resolve().parent.parent / "docs" / "operations.md").read_text(encoding="utf-8")
    start = text.index("## Running the analyzer")
    end = text.index("\n## ", start + 1)  # the section ends at the next top-level heading
    blocks = re.findall(r"```yaml\n(.*?)```", text[start:end], re.S)
    assert len(blocks) == 2
    for block in blocks:
        config_from_dict(yaml.safe_load(block))
