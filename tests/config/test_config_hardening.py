"""Broken and hostile config files: always exit 2 with the dotted key, never a traceback; and what
``config check`` catches before a run would only warn about it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from otel_impact.cli.main import cli
from otel_impact.config import load_config, load_config_text
from otel_impact.errors import ConfigError

GOOD = "business_metrics: [{name: purchase, source: {event: business.purchase}}]\n"


def check(path: Path) -> Any:
    return CliRunner().invoke(cli, ["config", "check", str(path)])


def write(tmp_path: Path, data: bytes | str, name: str = "impact.yaml") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def assert_exit_2(res: Any, *needles: str) -> None:
    assert res.exit_code == 2, (res.exit_code, res.output, res.exception)
    assert isinstance(res.exception, SystemExit)  # no traceback
    assert "Traceback" not in res.output
    for needle in needles:
        assert needle in res.stderr, res.stderr


def test_defect7_non_utf8_and_utf16_files(tmp_path: Path) -> None:
    assert_exit_2(check(write(tmp_path, GOOD.encode("utf-16"))), "UTF-16", "save it as UTF-8")
    assert_exit_2(check(write(tmp_path, b"job: {name: caf\xe9}\n")), "not UTF-8", "0xe9")
    assert_exit_2(check(write(tmp_path, b"job:\0 x\n")), "NUL")
    assert check(write(tmp_path, b"\xef\xbb\xbf" + GOOD.encode())).exit_code == 0  # UTF-8 BOM is fine


@pytest.mark.parametrize(
    "text", ["[" * 50_000 + "]" * 50_000, "a: " * 20_000 + "1", "{a: " * 5000 + "1" + "}" * 5000]
)
def test_defect7_deeply_nested_yaml(tmp_path: Path, text: str) -> None:
    assert_exit_2(check(write(tmp_path, text)), "deep")


def test_yaml_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [
        f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 9)
    ]
    assert_exit_2(check(write(tmp_path, "\n".join(lines))), "aliases expanded")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("job: {lock_ttl: 99999999999999999999999d}", "job.lock_ttl"),
        ("job: {first_run: 1000000d}", "job.first_run"),
        ("job: {lookback: .inf}", "job.lookback"),
        ("lift: {cuped_pre_period: .nan}", "lift.cuped_pre_period"),
        ("series: {bucket: 0.001s}", "series.bucket"),
        ("series: {bucket: 0}", "series.bucket"),
        ("series: {bucket: 1s}", "series.bucket"),  # 2.6 M buckets over the 30-day first run
        ("incidents: {bucket: 10s, history: 3650d}", "incidents.bucket"),
        ("tree: {bucket: 1s}", "tree.bucket"),
    ],
)
def test_defect7_absurd_durations_and_buckets_name_the_key(tmp_path: Path, text: str, key: str) -> None:
    assert_exit_2(check(write(tmp_path, GOOD + text)), f"error: {key}:")


def test_defect7_bucket_count_is_capped_for_the_planned_window(store: Any) -> None:
    """A window given at run time (--since/--until) is checked before any stage allocates."""
    from otel_impact.config import config_from_dict
    from otel_impact.job import run_job

    calls: list[Any] = []
    cfg = config_from_dict({"series": {"bucket": "1m"}, "job": {"first_run": "30d"}})
    end = datetime(2026, 11, 5, tzinfo=UTC)
    with pytest.raises(ConfigError) as err:
        run_job(store, cfg, since=end - timedelta(days=3650), until=end, export=False,
                analyze_fn=lambda *a, **k: calls.append(a) or {})  # fmt: skip
    assert err.value.path == "series.bucket" and "use a bucket of at least" in str(err.value)
    assert calls == []


def test_defect7_empty_files_and_duplicate_keys(tmp_path: Path) -> None:
    assert_exit_2(check(write(tmp_path, "")), "is empty")
    assert_exit_2(check(write(tmp_path, "# only a comment\n\n")), "is empty")
    dup = GOOD + "job: {lookback: 1h}\nseries: {bucket: 1d}\njob: {lookback: 2h}\n"
    assert_exit_2(check(write(tmp_path, dup)), "error: job: key given twice (lines 2 and 4)")
    nested = "business_metrics: [{name: a, source: {event: e}, window: 1d, window: 2d}]"
    assert_exit_2(check(write(tmp_path, nested)), "business_metrics[0].window: key given twice")


# random YAML documents: scalars, lists and mappings, some with known keys
_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20),
    st.sampled_from(["3d", "0.001s", "99999999999999999999999d", "-1h", "SELECT 1; DROP TABLE t", "{x}"]),
)  # fmt: skip
_keys = st.one_of(
    st.sampled_from(["business_metrics", "job", "series", "bucket", "name", "source", "sql", "event", "lift",
                     "metrics", "window", "tree", "root", "children", "incidents", "alerts", "lock_ttl"]),
    st.text(max_size=8),
)  # fmt: skip
_docs = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_keys, inner, max_size=4)),
    max_leaves=20,
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    payload=st.one_of(
        _docs.map(lambda d: yaml.safe_dump(d).encode("utf-8")),
        st.binary(max_size=200),
        st.text(max_size=200).map(lambda s: s.encode("utf-8")),
        st.text(alphabet="[]{}:,-&*!| \n\tab#'\"", max_size=120).map(lambda s: s.encode("utf-8")),
    )
)
def test_defect7_any_config_exits_0_or_2_never_a_traceback(tmp_path: Path, payload: bytes) -> None:
    res = check(write(tmp_path, payload))
    assert res.exit_code in (0, 2), (payload, res.output, res.exception)
    assert res.exception is None or isinstance(res.exception, SystemExit), (payload, res.exception)


def test_config_check_lists_every_problem_with_did_you_mean(tmp_path: Path) -> None:
    text = (
        "business_metrics: [{name: purchase, sorce: {event: business.purchase}, windw: 3d}]\n"
        "lift: {metrcs: [purchase]}\nseries: {bucket: 0.001s}\n"
    )
    res = check(write(tmp_path, text))
    assert_exit_2(
        res,
        "business_metrics[0].sorce: unknown key (did you mean 'source'?)",
        "business_metrics[0].windw: unknown key (did you mean 'window'?)",
        "lift.metrcs: unknown key (did you mean 'metrics'?)",
        "series.bucket: a bucket must be at least 1s",
    )
    assert "more problem" not in res.stderr


def test_config_check_catches_what_a_run_would_warn_about(tmp_path: Path) -> None:
    assert_exit_2(
        check(write(tmp_path, "segments: [platform]\n")), "error: business_metrics: no business metrics"
    )
    text = GOOD + (
        "lift: {metrics: [purchse]}\n"
        "evaluation: {features: [{name: f, offline: {name: auc, value: 0.8, threshold: 0.7},"
        " online: {lift: revenue, threshold: 0.01}}, {name: g, offline: {name: auc, value: 0.8, threshold: 0.7},"
        " online: {series: purchase.value_per_usr, threshold: 0.01}}]}\n"
        "tree: {root: {name: r, source: {event: business.purchases}}}\n"
        "alerts: {adaptive_metrics: [volume, latency_p99_ms]}\n"
    )
    res = check(write(tmp_path, text))
    assert_exit_2(
        res,
        "error: lift.metrics[0]: unknown business metric 'purchse' (did you mean 'purchase'?)",
        "error: evaluation.features[0].online.lift: unknown business metric 'revenue'",
        "error: tree.root.source.event: 'business.purchases' is not the event of any business metric "
        "(did you mean 'business.purchase'?)",
        "error: alerts.adaptive_metrics[1]: no per-model series is named 'latency_p99_ms' (did you mean 'latency_p95_ms'?)",
        "error: evaluation.features[1].online.series: no series is named 'purchase.value_per_usr' "
        "(did you mean 'purchase.value_per_user'?)",
        "5 problem(s)",
    )


def test_config_check_same_metric_spelled_alike_across_sections(tmp_path: Path) -> None:
    # incidents.metrics used to know only latency_p95 while series/alerts say latency_p95_ms
    text = GOOD + "incidents: {metrics: [auc, latency_p95_ms]}\nalerts: {adaptive_metrics: [latency_p95]}\n"
    res = check(write(tmp_path, text))
    assert res.exit_code == 0, res.output
    cfg = load_config(write(tmp_path, text))
    assert cfg.incidents.metrics == ("auc", "latency_p95")
    assert cfg.alerts.adaptive_metrics == ("latency_p95_ms",)


def test_analyze_refuses_a_report_suffix_before_anything_runs(tmp_path: Path) -> None:
    config = write(tmp_path, GOOD)
    # an unreachable store: reaching it would be exit 3, the suffix check comes first
    res = CliRunner().invoke(
        cli,
        [
            "analyze",
            "--config",
            str(config),
            "--dsn",
            "http://127.0.0.1:9",
            "--report",
            str(tmp_path / "r.pdf"),
        ],
    )
    assert_exit_2(res, "--report", "r.pdf must end in .html or .md")


def test_load_config_text_errors_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="key given twice"):
        load_config_text("a: 1\na: 2")
    with pytest.raises(ConfigError, match=r"single document|not valid YAML"):
        load_config_text("a: 1\n---\nb: 2")
