-- Several shards: Collectors write each shard's replicated tables in database `otel_local`
-- (collector-config/otelcol-cluster.yaml, CLICKHOUSE_DATABASE=otel_local,
-- CLICKHOUSE_CLUSTER=otel_impact); the analyzer and Grafana read database `otel`, where every
-- exporter table is a Distributed table of the same name over all shards. Our SQL uses
-- unqualified table names in the client's current database, so nothing else changes.
--
-- Order: (1) run `otel-impact schema apply --database otel_local --cluster otel_impact` (before or
-- after the Collectors created otel_local.*): it adds each shard's typed tables
-- impact_predictions_typed / impact_events_typed and the materialized views that fill them from
-- the shard's otel_traces / otel_logs (rows written before: `otel-impact schema backfill
-- --database otel_local` on every shard); (2) run this file
-- (clickhouse-client --multiquery < deploy/cluster/distributed.sql); (3) run
-- `otel-impact schema apply --dsn http://<user>@<node>:8123/otel --cluster otel_impact`, which keeps
-- the Distributed tables below and adds the impact_* views over them and the job's own tables
-- (no materialized views there: the typed tables below are Distributed, filled on the shards).
-- Sharding keys keep a trace's spans, and a metric series' points, on one shard.

CREATE DATABASE IF NOT EXISTS otel ON CLUSTER otel_impact;

CREATE TABLE IF NOT EXISTS otel.otel_traces ON CLUSTER otel_impact AS otel_local.otel_traces
ENGINE = Distributed(otel_impact, otel_local, otel_traces, cityHash64(TraceId));

CREATE TABLE IF NOT EXISTS otel.otel_traces_trace_id_ts ON CLUSTER otel_impact AS otel_local.otel_traces_trace_id_ts
ENGINE = Distributed(otel_impact, otel_local, otel_traces_trace_id_ts, cityHash64(TraceId));

CREATE TABLE IF NOT EXISTS otel.otel_logs ON CLUSTER otel_impact AS otel_local.otel_logs
ENGINE = Distributed(otel_impact, otel_local, otel_logs, cityHash64(TraceId, ServiceName));

CREATE TABLE IF NOT EXISTS otel.otel_metrics_gauge ON CLUSTER otel_impact AS otel_local.otel_metrics_gauge
ENGINE = Distributed(otel_impact, otel_local, otel_metrics_gauge, cityHash64(MetricName, Attributes));

CREATE TABLE IF NOT EXISTS otel.otel_metrics_sum ON CLUSTER otel_impact AS otel_local.otel_metrics_sum
ENGINE = Distributed(otel_impact, otel_local, otel_metrics_sum, cityHash64(MetricName, Attributes));

CREATE TABLE IF NOT EXISTS otel.otel_metrics_histogram ON CLUSTER otel_impact AS otel_local.otel_metrics_histogram
ENGINE = Distributed(otel_impact, otel_local, otel_metrics_histogram, cityHash64(MetricName, Attributes));

CREATE TABLE IF NOT EXISTS otel.otel_metrics_exponential_histogram ON CLUSTER otel_impact
AS otel_local.otel_metrics_exponential_histogram
ENGINE = Distributed(otel_impact, otel_local, otel_metrics_exponential_histogram, cityHash64(MetricName, Attributes));

CREATE TABLE IF NOT EXISTS otel.otel_metrics_summary ON CLUSTER otel_impact AS otel_local.otel_metrics_summary
ENGINE = Distributed(otel_impact, otel_local, otel_metrics_summary, cityHash64(MetricName, Attributes));

CREATE TABLE IF NOT EXISTS otel.impact_predictions_typed ON CLUSTER otel_impact AS otel_local.impact_predictions_typed
ENGINE = Distributed(otel_impact, otel_local, impact_predictions_typed, rand());

CREATE TABLE IF NOT EXISTS otel.impact_events_typed ON CLUSTER otel_impact AS otel_local.impact_events_typed
ENGINE = Distributed(otel_impact, otel_local, impact_events_typed, rand());
