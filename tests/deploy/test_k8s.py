"""deploy/k8s: every manifest validates against the bundled Kubernetes schemas (strict), the CronJob
cannot overlap and takes credentials from a Secret, and the generated ConfigMaps match their sources."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.conftest import REPO

K8S = REPO / "deploy" / "k8s"
VERSION = "1.34.0"


def _docs() -> list[tuple[Path, dict[str, Any]]]:
    out = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        out += [(path, d) for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    return out


def _kind(kind: str) -> list[dict[str, Any]]:
    return [d for _, d in _docs() if d["kind"] == kind]


def test_every_manifest_validates_strictly():
    docs = _docs()
    assert {d["kind"] for _, d in docs} >= {"Deployment", "Service", "CronJob", "ConfigMap"}
    for path, doc in docs:
        try:
            kubernetes_validate.validate(doc, VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{path.name} {doc['kind']}: {exc}")
    # the validator does catch mistakes (a misspelt field)
    bad = json.loads(json.dumps(_kind("CronJob")[0]))
    bad["spec"]["concurrencyPolicyy"] = "Forbid"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, VERSION, strict=True)


def test_kustomization_lists_every_manifest():
    kust = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kust["resources"]) == files


def test_analyzer_cronjob_forbids_overlap_and_reads_secrets():
    (cron,) = _kind("CronJob")
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    container = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    pw = env["OTEL_IMPACT_CLICKHOUSE_PASSWORD"]
    assert "value" not in pw and pw["valueFrom"]["secretKeyRef"]["name"] == "otel-impact-clickhouse"
    assert container["args"][0] == "analyze"
    config_map = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["volumes"][0]["configMap"]["name"]
    assert config_map in {d["metadata"]["name"] for d in _kind("ConfigMap")}


def test_no_literal_credentials_anywhere():
    for _, doc in _docs():
        if doc["kind"] in ("Deployment", "CronJob"):
            pod = doc["spec"]["jobTemplate"]["spec"] if doc["kind"] == "CronJob" else doc["spec"]
            for c in pod["template"]["spec"]["containers"]:
                for e in c.get("env", []):
                    if any(w in e["name"] for w in ("PASSWORD", "USERNAME")):
                        assert "secretKeyRef" in e.get("valueFrom", {}), e
    assert not _kind("Secret")


def test_collector_service_exposes_otlp_and_selects_the_deployment():
    svc = next(d for d in _kind("Service") if d["metadata"]["name"] == "otel-collector")
    dep = next(d for d in _kind("Deployment") if d["metadata"]["name"] == "otel-collector")
    assert {p["port"] for p in svc["spec"]["ports"]} == {4317, 4318}
    labels = dep["spec"]["template"]["metadata"]["labels"]
    assert all(labels.get(k) == v for k, v in svc["spec"]["selector"].items())
    names = {p["name"] for p in dep["spec"]["template"]["spec"]["containers"][0]["ports"]}
    assert {p["targetPort"] for p in svc["spec"]["ports"]} <= names


def test_generated_configmaps_match_their_sources():
    maps = {d["metadata"]["name"]: d["data"] for d in _kind("ConfigMap")}
    collector = maps["otel-collector-config"]["otelcol.yaml"]
    assert yaml.safe_load(collector) == yaml.safe_load((REPO / "collector-config/otelcol.yaml").read_text())
    assert yaml.safe_load(maps["otel-collector-config"]["selfmetrics.yaml"]) == yaml.safe_load(
        (REPO / "deploy/otelcol-selfmetrics.yaml").read_text()
    )
    dep = next(d for d in _kind("Deployment") if d["metadata"]["name"] == "otel-collector")
    args = dep["spec"]["template"]["spec"]["containers"][0]["args"]
    mounted = {i["path"] for i in dep["spec"]["template"]["spec"]["volumes"][0]["configMap"]["items"]}
    assert {a.removeprefix("--config=/etc/otelcol/") for a in args} == mounted
    assert yaml.safe_load(maps["otel-impact-analyzer-config"]["impact.yaml"]) == yaml.safe_load(
        (REPO / "deploy/impact.yaml").read_text()
    )
    dashboards = maps["otel-impact-grafana-dashboards"]
    for path in sorted((REPO / "dashboards").glob("*.json")):
        assert json.loads(dashboards[path.name]) == json.loads(path.read_text())
    provisioning = maps["otel-impact-grafana-provisioning"]
    assert yaml.safe_load(provisioning["clickhouse.yaml"]) == yaml.safe_load(
        (REPO / "dashboards/provisioning/datasources/clickhouse.yaml").read_text()
    )


def test_grafana_mounts_provisioning_at_the_providers_path():
    dep = next(d for d in _kind("Deployment") if d["metadata"]["name"] == "grafana")
    c = dep["spec"]["template"]["spec"]["containers"][0]
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    provider = yaml.safe_load((REPO / "dashboards/provisioning/dashboards/otel-impact.yaml").read_text())
    assert mounts["dashboards"] == provider["providers"][0]["options"]["path"]
    assert mounts["datasources"] == "/etc/grafana/provisioning/datasources"
    env = {e["name"] for e in c["env"]}
    ds_text = (REPO / "dashboards/provisioning/datasources/clickhouse.yaml").read_text()
    assert set(re.findall(r"\$\{(\w+)\}", ds_text)) <= env
