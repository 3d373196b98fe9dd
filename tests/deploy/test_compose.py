"""deploy/docker-compose.yaml: parses, mounts only files that exist, no port clashes, pinned images,
and the Collector's ClickHouse exporter points at the ClickHouse service."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO

DEPLOY = REPO / "deploy"
COMPOSE = DEPLOY / "docker-compose.yaml"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def _mounts(service: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for v in service.get("volumes", []):
        src, dst = v.split(":")[:2]
        out.append((src, dst))
    return out


def test_services_and_volumes_are_declared(compose):
    services = compose["services"]
    assert {"clickhouse", "otel-collector", "grafana", "analyzer", "demo", "schema"} <= set(services)
    named = set(compose.get("volumes") or {})
    for name, svc in services.items():
        for src, _ in _mounts(svc):
            if not src.startswith("."):
                assert src in named, f"{name}: volume {src} is not declared"
        for dep in svc.get("depends_on") or {}:
            assert dep in services, f"{name} depends on unknown service {dep}"


def test_every_mounted_file_exists_in_the_repo(compose):
    checked = 0
    for name, svc in compose["services"].items():
        for src, _ in _mounts(svc):
            if src.startswith("."):
                assert (DEPLOY / src).resolve().exists(), f"{name}: {src} does not exist"
                checked += 1
    assert checked >= 5
    build = compose["services"]["schema"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve().is_file()


def test_host_ports_do_not_clash(compose):
    bound: list[tuple[str, str, str]] = []  # (host ip, host port, service)
    for name, svc in compose["services"].items():
        for p in svc.get("ports", []):
            parts = str(p).split(":")
            ip, port = (parts[0], parts[1]) if len(parts) == 3 else ("0.0.0.0", parts[0])
            for other_ip, other_port, other in bound:
                same_ip = ip == other_ip or "0.0.0.0" in (ip, other_ip)
                assert not (same_ip and port == other_port), f"host port {port}: {other} and {name}"
            bound.append((ip, port, name))
    assert len(bound) >= 6


PINNED = re.compile(r"^[\w./-]+:(\d+(\.\d+)+)([-.\w]*)$")


def test_images_are_pinned_to_versions(compose):
    images = {name: svc["image"] for name, svc in compose["services"].items() if "image" in svc}
    assert len(images) == len(compose["services"])
    for name, image in images.items():
        m = PINNED.match(image)
        assert m, f"{name}: image {image!r} is not pinned to a version"
        assert "latest" not in image
    # our own image carries the package version
    version = re.search(r'^version = "([^"]+)"', (REPO / "pyproject.toml").read_text(), re.M)
    assert version and images["analyzer"] == f"otel-impact:{version.group(1)}"
    assert images["analyzer"] == images["schema"] == images["demo"]
    grafana_env = compose["services"]["grafana"]["environment"]
    assert re.fullmatch(
        r"grafana-clickhouse-datasource@\d+\.\d+\.\d+", grafana_env["GF_PLUGINS_PREINSTALL_SYNC"]
    )
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    base = re.search(r"^FROM (\S+)", dockerfile, re.M)
    assert base and PINNED.match(base.group(1)), base


def test_collector_exports_to_the_clickhouse_service(compose):
    col = compose["services"]["otel-collector"]
    config_mount = [src for src, dst in _mounts(col) if dst == "/etc/otelcol/otelcol.yaml"]
    assert config_mount and (DEPLOY / config_mount[0]).resolve() == REPO / "collector-config" / "otelcol.yaml"
    assert "--config=/etc/otelcol/otelcol.yaml" in col["command"]
    # the self-metrics overlay sends the Collector's own metrics to its own OTLP receiver
    overlay = yaml.safe_load((DEPLOY / "otelcol-selfmetrics.yaml").read_text())
    reader = overlay["service"]["telemetry"]["metrics"]["readers"][0]["periodic"]["exporter"]["otlp"]
    assert reader["endpoint"].endswith(":4318") and "4318:4318" in col["ports"]
    config = yaml.safe_load((REPO / "collector-config" / "otelcol.yaml").read_text())
    endpoint = config["exporters"]["clickhouse"]["endpoint"]
    var = re.fullmatch(r"\$\{env:(\w+)\}", endpoint)
    assert var, endpoint
    value = col["environment"][var.group(1)]
    m = re.match(r"^(tcp|clickhouse|http)://([\w.-]+):(\d+)", value)
    assert m and m.group(2) == "clickhouse" and m.group(2) in compose["services"]
    assert m.group(3) == "9000"  # the native port the server listens on
    assert any(str(p).endswith(":9000") for p in compose["services"]["clickhouse"]["ports"])
    assert (
        col["environment"]["CLICKHOUSE_DATABASE"]
        == compose["services"]["clickhouse"]["environment"]["CLICKHOUSE_DB"]
    )
    # and the analyzer exports back through the Collector
    impact = yaml.safe_load((DEPLOY / "impact.yaml").read_text())
    assert impact["export"]["endpoint"] == "http://otel-collector:4318"
    assert impact["database"] == col["environment"]["CLICKHOUSE_DATABASE"]


def test_credentials_come_from_the_environment(compose):
    text = COMPOSE.read_text()
    for name, svc in compose["services"].items():
        for key, value in (svc.get("environment") or {}).items():
            if "PASSWORD" in key:
                assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", str(value)), (
                    f"{name}.{key} must come from the env"
                )
    assert "password:" not in text.lower().replace("_password:", "")


def test_grafana_provisioning_is_mounted_and_fed(compose):
    graf = compose["services"]["grafana"]
    mounts = dict((dst, src) for src, dst in _mounts(graf))
    provider = yaml.safe_load((REPO / "dashboards/provisioning/dashboards/otel-impact.yaml").read_text())
    path = provider["providers"][0]["options"]["path"]
    assert (DEPLOY / mounts[path]).resolve() == REPO / "dashboards"
    assert sorted((REPO / "dashboards").glob("*.json"))
    ds_text = (REPO / "dashboards/provisioning/datasources/clickhouse.yaml").read_text()
    ds = yaml.safe_load(ds_text)["datasources"][0]
    assert ds["type"] == "grafana-clickhouse-datasource"
    used = set(re.findall(r"\$\{(\w+)\}", ds_text))
    assert used and used <= set(graf["environment"]), used - set(graf["environment"])
    assert ds["secureJsonData"]["password"] == "${CLICKHOUSE_PASSWORD}"
    home = graf["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (REPO / "dashboards" / Path(home).name).is_file() and home.startswith(path)


def test_the_analyzer_config_is_valid():
    from otel_impact.config import load_config

    config = load_config(DEPLOY / "impact.yaml")
    assert config.export.enabled and config.job.name


def test_the_image_copies_what_exists_and_runs_the_cli():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    lines = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    ignore = [x.strip() for x in lines if x.strip() and not x.startswith("#")]
    assert ignore[0] == "*"  # everything else stays out of the build context (.venv, data)
    for line in re.findall(r"^COPY (.+)$", dockerfile, re.M):
        *sources, _dest = line.split()
        for src in sources:
            assert (REPO / src).exists(), src
            assert f"!{src.rstrip('/')}" in ignore or f"!{src.rstrip('/')}/" in ignore, (
                f"{src} is not in the context"
            )
    assert 'ENTRYPOINT ["otel-impact"]' in dockerfile
    assert re.search(r'^otel-impact = "otel_impact\.cli:main"', (REPO / "pyproject.toml").read_text(), re.M)
