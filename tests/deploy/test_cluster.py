"""deploy/cluster: the Distributed tables cover every exporter table on the cluster the server config
defines, over the local database the cluster Collector writes."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from otel_impact import semconv
from tests.conftest import REPO

CLUSTER = REPO / "deploy" / "cluster"


def test_distributed_tables_cover_the_exporter_tables():
    sql = (CLUSTER / "distributed.sql").read_text()
    created = re.findall(
        r"CREATE TABLE IF NOT EXISTS otel\.(\w+) ON CLUSTER (\w+)\s+AS otel_local\.(\w+)\s+"
        r"ENGINE = Distributed\((\w+), otel_local, (\w+), [^;]+\);",
        sql,
    )
    tables = {t[0] for t in created}
    # the exporter tables and the typed tables the shards' materialized views fill
    typed = {semconv.TABLE_PREDICTIONS_TYPED, semconv.TABLE_EVENTS_TYPED}
    assert tables == set(semconv.EXPORTER_TABLES) | typed
    for name, on_cluster, local, dist_cluster, dist_table in created:
        assert name == local == dist_table and on_cluster == dist_cluster == "otel_impact"


def test_server_config_defines_that_cluster_with_keeper_and_macros():
    root = ET.parse(CLUSTER / "clickhouse-cluster.xml").getroot()
    cluster = root.find("remote_servers/otel_impact")
    assert cluster is not None
    shards = cluster.findall("shard")
    assert len(shards) >= 2 and all(len(s.findall("replica")) >= 2 for s in shards)
    assert len(root.findall("zookeeper/node")) >= 3
    assert {m.tag for m in root.find("macros")} >= {"shard", "replica"}
    assert "{shard}" in root.findtext("default_replica_path")


def test_cluster_collector_config_names_the_cluster():
    text = (REPO / "collector-config" / "otelcol-cluster.yaml").read_text()
    assert "cluster_name: ${env:CLICKHOUSE_CLUSTER}" in text
