"""Static checks of collector-config/*.yaml against the clickhouseexporter's accepted keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from otel_impact import semconv
from tests.conftest import REPO, shared_file

CONFIGS = sorted((REPO / "collector-config").glob("*.yaml"))

# Keys outside `properties` that the schema pulls in through allOf (see the file's header):
# exporterhelper.timeout_config squashes `timeout`; configretry.back_off_config is `retry_on_failure`.
_ALLOF_KEYS = {"timeout", "retry_on_failure"}
_RETRY_KEYS = {
    "enabled",
    "initial_interval",
    "max_interval",
    "max_elapsed_time",
    "multiplier",
    "randomization_factor",
}
_QUEUE_KEYS = {
    "enabled",
    "num_consumers",
    "queue_size",
    "storage",
    "sizer",
    "batch",
    "block_on_overflow",
    "wait_for_result",
}


def _schema() -> dict[str, Any]:
    return yaml.safe_load(shared_file("reference/clickhouseexporter-config.schema.yaml").read_text())


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path.name}: top level must be a mapping"
    return data


def _clickhouse(config: dict[str, Any]) -> dict[str, Any]:
    exporters = {k: v for k, v in config["exporters"].items() if k.split("/")[0] == "clickhouse"}
    assert len(exporters) == 1
    return next(iter(exporters.values()))


def test_both_configs_exist() -> None:
    assert {p.name for p in CONFIGS} >= {"otelcol.yaml", "otelcol-cluster.yaml"}


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_pipelines_use_only_defined_components(path: Path) -> None:
    config = _load(path)
    service = config["service"]
    for ext in service.get("extensions", []):
        assert ext in config.get("extensions", {}), f"extension {ext} not defined"
    pipelines = service["pipelines"]
    assert {name.split("/")[0] for name in pipelines} == {"traces", "metrics", "logs"}
    for name, pipeline in pipelines.items():
        for kind in ("receivers", "processors", "exporters"):
            for component in pipeline.get(kind, []):
                assert component in (config.get(kind) or {}), f"{name}: {kind[:-1]} {component} not defined"
        assert pipeline["receivers"] == ["otlp"]
        assert pipeline["exporters"] == ["clickhouse"]
        # memory_limiter must run first, batch after it
        assert pipeline["processors"][0] == "memory_limiter"
        assert "batch" in pipeline["processors"]


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_otlp_receiver_ports(path: Path) -> None:
    protocols = _load(path)["receivers"]["otlp"]["protocols"]
    assert protocols["grpc"]["endpoint"].endswith(":4317")
    assert protocols["http"]["endpoint"].endswith(":4318")


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_clickhouse_exporter_keys_are_accepted(path: Path) -> None:
    schema = _schema()
    exporter = _clickhouse(_load(path))
    allowed = set(schema["properties"]) | _ALLOF_KEYS
    assert set(exporter) <= allowed, f"unknown keys {set(exporter) - allowed}"
    metric_types = set(schema["$defs"]["metric_tables_config"]["properties"])
    assert set(exporter["metrics_tables"]) == metric_types
    for table in exporter["metrics_tables"].values():
        assert set(table) == {"name"}
    assert set(exporter["retry_on_failure"]) <= _RETRY_KEYS
    assert exporter["retry_on_failure"]["enabled"] is True
    assert set(exporter["sending_queue"]) <= _QUEUE_KEYS
    if "table_engine" in exporter:
        assert set(exporter["table_engine"]) <= set(schema["$defs"]["table_engine"]["properties"])
    # credentials only from the environment
    assert exporter["endpoint"].startswith("${env:")
    assert exporter["password"].startswith("${env:")
    assert exporter["create_schema"] is True
    assert exporter["ttl"]


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_table_names_equal_ours(path: Path) -> None:
    exporter = _clickhouse(_load(path))
    assert exporter["traces_table_name"] == semconv.TABLE_TRACES
    assert exporter["logs_table_name"] == semconv.TABLE_LOGS
    names = {kind: table["name"] for kind, table in exporter["metrics_tables"].items()}
    assert names == {
        "gauge": semconv.TABLE_METRICS_GAUGE,
        "sum": semconv.TABLE_METRICS_SUM,
        "histogram": semconv.TABLE_METRICS_HISTOGRAM,
        "exponential_histogram": semconv.TABLE_METRICS_EXP_HISTOGRAM,
        "summary": semconv.TABLE_METRICS_SUMMARY,
    }


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_persistent_sending_queue(path: Path) -> None:
    config = _load(path)
    storage = _clickhouse(config)["sending_queue"]["storage"]
    assert storage.split("/")[0] == "file_storage"
    assert storage in config["extensions"]
    assert storage in config["service"]["extensions"]
    assert config["extensions"][storage]["directory"]


def test_cluster_variant_is_replicated() -> None:
    exporter = _clickhouse(_load(REPO / "collector-config" / "otelcol-cluster.yaml"))
    assert exporter["cluster_name"].startswith("${env:")
    assert exporter["table_engine"]["name"].startswith("Replicated")
    single = _clickhouse(_load(REPO / "collector-config" / "otelcol.yaml"))
    assert "cluster_name" not in single
    # otherwise the same exporter settings
    assert {k: v for k, v in exporter.items() if k not in ("cluster_name", "table_engine")} == single
