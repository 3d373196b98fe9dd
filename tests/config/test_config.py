"""Config loading: typed values, and errors that name the dotted key."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from otel_impact.cli.main import cli
from otel_impact.config import format_duration, load_config, load_config_text, parse_duration
from otel_impact.errors import ConfigError

GOOD = """
business_metrics:
  - name: purchase
    source: {event: business.purchase}
    key: user.id
    window: 3d
    value: sum
  - name: subscription
    source: {sql: "SELECT ts, uid, amount FROM subs", columns: {ts: ts, key: uid, value: amount}}
    key: user.id
    window: 30d
    value: count
identity: {sql: "SELECT other_id, user_id FROM ids"}
segments: [platform, tenure]
attribution:
  models: [last_touch, first_touch, linear, position_based, time_decay, markov, shapley]
  position_based: {first: 0.3, last: 0.5}
  time_decay: {half_life: 12h}
"""


def test_good_config_is_typed() -> None:
    cfg = load_config_text(GOOD)
    purchase, subscription = cfg.business_metrics
    assert purchase.window == 3 * 86400
    assert purchase.source.event == "business.purchase"
    assert subscription.source.sql is not None
    assert subscription.source.sql_columns.key == "uid"
    assert subscription.window == 30 * 86400
    assert cfg.attribution.time_decay.half_life == 12 * 3600
    assert cfg.attribution.position_based.last == 0.5
    assert cfg.segments == ("platform", "tenure")
    assert cfg.business_metric("subscription") is subscription


def test_config_is_frozen() -> None:
    cfg = load_config_text(GOOD)
    with pytest.raises(Exception, match="frozen"):
        cfg.segments = ("x",)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "path", "message"),
    [
        ("foo: 1", "foo", "unknown key"),
        (
            "business_metrics: [{name: p, source: {event: e}, window: 3x}]",
            "business_metrics[0].window",
            "duration",
        ),
        (
            "business_metrics: [{name: p, source: {event: e}, window: 0s}]",
            "business_metrics[0].window",
            "positive",
        ),
        (
            "business_metrics: [{name: p, source: {event: e}, key: email}]",
            "business_metrics[0].key",
            "user.id",
        ),
        ("business_metrics: [{name: p, source: {}}]", "business_metrics[0].source", "exactly one"),
        (
            "business_metrics: [{name: p, source: {sql: SELECT 1, columns: {tss: t}}}]",
            "business_metrics[0].source.columns.tss",
            "unknown key",
        ),
        (
            "attribution: {position_based: {first: 0.8, last: 0.4}}",
            "attribution.position_based",
            "sum to at most 1",
        ),
        ("attribution: {models: [last_touch, nope]}", "attribution.models[1]", "last_touch"),
        ("attribution: {time_decay: {half_life: -1}}", "attribution.time_decay.half_life", "negative"),
        ("segments: [platform, platform]", "segments", "unique"),
        (
            "business_metrics: [{name: p, source: {event: e}}, {name: p, source: {event: f}}]",
            "<root>",
            "repeated: p",
        ),
    ],
)
def test_bad_config_names_the_key(text: str, path: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config_text(text)
    assert info.value.path == path
    assert message in str(info.value)


def test_yaml_syntax_and_top_level_errors() -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config_text("a: [1, 2")
    with pytest.raises(ConfigError, match="mapping at the top level"):
        load_config_text("- 1\n- 2")
    with pytest.raises(ConfigError, match="is empty"):
        load_config_text("# nothing here\n")


def test_missing_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("15m", 900), ("1.5h", 5400), ("3d", 259200), ("1w", 604800), ("250ms", 0.25), (42, 42)],
)
def test_parse_duration(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["3", "3 days", "", True, None, "-1d"])
def test_parse_duration_rejects(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(bad)


@pytest.mark.parametrize("seconds", [30, 900, 5400, 259200, 604800, 1.5])
def test_format_duration_round_trips(seconds: float) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


def test_cli_config_check(tmp_path) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "impact.yaml"
    good.write_text(GOOD)
    result = CliRunner().invoke(cli, ["config", "check", str(good)])
    assert result.exit_code == 0, result.output
    assert "2 business metric(s)" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("attribution: {time_decay: {half_life: soon}}")
    result = CliRunner().invoke(cli, ["config", "check", str(bad)])
    assert result.exit_code == 2
    assert "attribution.time_decay.half_life" in result.output
    assert "Traceback" not in result.output


def test_join_keys_are_the_semconv_names() -> None:
    from typing import get_args

    from otel_impact import semconv
    from otel_impact.config.model import JoinKey

    assert set(get_args(JoinKey)) == {
        semconv.USER_ID,
        semconv.SESSION_ID,
        semconv.ML_REQUEST_ID,
        semconv.ML_PREDICTION_ID,
    }
