"""Dashboard 5 — Instrumentation health: prediction volume and latency per model version (from the
unsampled metrics and from the prediction spans), error rate, rows arriving per signal, the
receiver's and the Collector's own throughput counters, analyzer runs, and the status of the
sources a metric tree reads.

Raw telemetry is read straight from the exporter tables and the typed views; counters are
cumulative (or delta) sums, turned into per-second rates per series (a series = service ×
attributes × start time, so a restarted process starts a new series instead of a negative step).
"""

from __future__ import annotations

from gen.grafana import Board, custom_var, query_var
from gen.sql import PREDICTIONS, RAW_EVENTS

MODELS = "$__conditionalAll(model_name IN (${model:singlequote}), $model)"
METRIC_MODELS = "$__conditionalAll(Attributes['ml.model.name'] IN (${model:singlequote}), $model)"


def counter_rate(metric_filter: str, label: str, value: str = "Value") -> str:
    """Per-second rate of a counter in otel_metrics_sum, per ``label`` (an SQL expression)."""
    return f"""
SELECT time, label AS {{label_name}}, sum(delta) / $__interval_s AS per_second
FROM (
  SELECT $__timeInterval(TimeUnix) AS time, {label} AS label, ServiceName, cityHash64(ResourceAttributes, ScopeName, Attributes) AS series,
    StartTimeUnix, AggregationTemporality,
    max({value}) AS last, sum({value}) AS total,
    if(AggregationTemporality = 1, total,
       last - lagInFrame(last, 1, if(StartTimeUnix >= $__fromTime, 0, last))
         OVER (PARTITION BY ServiceName, series, StartTimeUnix ORDER BY time ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)) AS delta
  FROM ${{database}}.otel_metrics_sum
  WHERE {metric_filter} AND $__timeFilter(TimeUnix)
  GROUP BY time, label, ServiceName, series, StartTimeUnix, AggregationTemporality
)
GROUP BY time, label
ORDER BY time
"""


PREDICTION_RATE = counter_rate(
    f"MetricName = 'ml.predictions' AND {METRIC_MODELS}",
    "concat(Attributes['ml.model.name'], ' ', Attributes['ml.model.version'])",
).replace("{label_name}", "version")

SELF_METRICS = counter_rate(
    "(MetricName IN ('otel_impact.receiver.items.accepted', 'otel_impact.receiver.items.refused', "
    "'otel_impact.receiver.items.failed') OR startsWith(MetricName, 'otelcol_receiver_accepted_') "
    "OR startsWith(MetricName, 'otelcol_receiver_refused_') OR startsWith(MetricName, 'otelcol_exporter_sent_') "
    "OR startsWith(MetricName, 'otelcol_exporter_send_failed_'))",
    "concat(MetricName, if(Attributes['otel_impact.receiver.signal'] != '', concat(' ', Attributes['otel_impact.receiver.signal']), ''))",
).replace("{label_name}", "counter")

# Mean latency per interval from the ml.prediction.duration histogram: Δsum / Δcount per series.
HISTOGRAM_MEAN = f"""
SELECT time, version, sum(dsum) / nullIf(sum(dcount), 0) * 1000 AS mean_latency_ms
FROM (
  SELECT $__timeInterval(TimeUnix) AS time,
    concat(Attributes['ml.model.name'], ' ', Attributes['ml.model.version']) AS version,
    ServiceName, cityHash64(ResourceAttributes, ScopeName, Attributes) AS series, StartTimeUnix, AggregationTemporality,
    max(Sum) AS s, toFloat64(max(Count)) AS c, sum(Sum) AS s_delta, toFloat64(sum(Count)) AS c_delta,
    if(AggregationTemporality = 1, s_delta, s - lagInFrame(s, 1, if(StartTimeUnix >= $__fromTime, 0, s))
       OVER (PARTITION BY ServiceName, series, StartTimeUnix ORDER BY time ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)) AS dsum,
    if(AggregationTemporality = 1, c_delta, c - lagInFrame(c, 1, if(StartTimeUnix >= $__fromTime, 0, c))
       OVER (PARTITION BY ServiceName, series, StartTimeUnix ORDER BY time ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)) AS dcount
  FROM ${{database}}.otel_metrics_histogram
  WHERE MetricName = 'ml.prediction.duration' AND {METRIC_MODELS} AND $__timeFilter(TimeUnix)
  GROUP BY time, version, ServiceName, series, StartTimeUnix, AggregationTemporality
)
GROUP BY time, version
ORDER BY time
"""

SPAN_VOLUME = f"""
SELECT $__timeInterval(ts) AS time, concat(model_name, ' ', model_version) AS version,
  sum(adjusted_count) / $__interval_s AS predictions_per_s
FROM {PREDICTIONS}
WHERE {MODELS} AND $__timeFilter(ts)
GROUP BY time, version
ORDER BY time
"""

SPAN_LATENCY = f"""
SELECT $__timeInterval(ts) AS time, concat(model_name, ' ', model_version) AS version,
  quantileExactWeighted(0.5)(duration_ns, toUInt64(round(adjusted_count))) / 1e6 AS p50_ms,
  quantileExactWeighted(0.95)(duration_ns, toUInt64(round(adjusted_count))) / 1e6 AS p95_ms
FROM {PREDICTIONS}
WHERE {MODELS} AND $__timeFilter(ts)
GROUP BY time, version
ORDER BY time
"""

SPAN_ERRORS = f"""
SELECT $__timeInterval(ts) AS time, concat(model_name, ' ', model_version) AS version,
  sum(adjusted_count * is_error) / sum(adjusted_count) AS error_rate
FROM {PREDICTIONS}
WHERE {MODELS} AND $__timeFilter(ts)
GROUP BY time, version
ORDER BY time
"""

# Rows per signal by their own timestamps (what arrived for each moment; a replay lands in the past).
INGEST = """
SELECT time, signal, sum(n) / $__interval_s AS rows_per_s
FROM (
  SELECT $__timeInterval(Timestamp) AS time, 'spans' AS signal, count() AS n
  FROM ${database}.otel_traces WHERE $__timeFilter(Timestamp) GROUP BY time
  UNION ALL
  SELECT $__timeInterval(Timestamp) AS time, 'log records' AS signal, count() AS n
  FROM ${database}.otel_logs WHERE $__timeFilter(Timestamp) GROUP BY time
  UNION ALL
  SELECT $__timeInterval(TimeUnix) AS time, 'gauge points' AS signal, count() AS n
  FROM ${database}.otel_metrics_gauge WHERE $__timeFilter(TimeUnix) GROUP BY time
  UNION ALL
  SELECT $__timeInterval(TimeUnix) AS time, 'sum points' AS signal, count() AS n
  FROM ${database}.otel_metrics_sum WHERE $__timeFilter(TimeUnix) GROUP BY time
  UNION ALL
  SELECT $__timeInterval(TimeUnix) AS time, 'histogram points' AS signal, count() AS n
  FROM ${database}.otel_metrics_histogram WHERE $__timeFilter(TimeUnix) GROUP BY time
)
GROUP BY time, signal
ORDER BY time
"""

RUNS = """
SELECT finished_at AS finished, job, run_id, status, window_start, watermark AS window_end,
  dateDiff('second', started_at, finished_at) AS duration_s, points, events, alerts, message
FROM ${database}.impact_job_state
WHERE $__timeFilter(finished_at)
ORDER BY finished DESC
LIMIT 200
"""

WATERMARK_LAG = """
SELECT job, dateDiff('second', max(watermark), $__toTime) / 3600 AS watermark_lag_h
FROM ${database}.impact_job_state
WHERE status = 'ok' AND finished_at <= $__toTime
GROUP BY job
ORDER BY job
"""

# The sources a metric tree can read (events, models, metrics): Live when they have data within
# ${live_within} of the end of the range, as `otel-impact tree` decides.
TREE_SOURCES = f"""
SELECT kind, source, last_seen, items,
  if(last_seen >= $__toTime - toIntervalSecond(${{live_within}}), 'Live', 'Needs data') AS status
FROM (
  SELECT 'event' AS kind, event_name AS source, toDateTime(max(ts)) AS last_seen, count() AS items
  FROM {RAW_EVENTS} WHERE NOT startsWith(event_name, 'impact.') AND $__timeFilter(ts) GROUP BY source
  UNION ALL
  SELECT 'model' AS kind, model_name AS source, toDateTime(max(ts)) AS last_seen, count() AS items
  FROM {PREDICTIONS} WHERE $__timeFilter(ts) GROUP BY source
  UNION ALL
  SELECT 'metric' AS kind, MetricName AS source, max(TimeUnix) AS last_seen, count() AS items
  FROM ${{database}}.otel_metrics_sum WHERE NOT startsWith(MetricName, 'impact.') AND $__timeFilter(TimeUnix) GROUP BY source
  UNION ALL
  SELECT 'metric' AS kind, MetricName AS source, max(TimeUnix) AS last_seen, count() AS items
  FROM ${{database}}.otel_metrics_gauge WHERE NOT startsWith(MetricName, 'impact.') AND $__timeFilter(TimeUnix) GROUP BY source
  UNION ALL
  SELECT 'metric' AS kind, MetricName AS source, max(TimeUnix) AS last_seen, count() AS items
  FROM ${{database}}.otel_metrics_histogram WHERE NOT startsWith(MetricName, 'impact.') AND $__timeFilter(TimeUnix) GROUP BY source
)
ORDER BY status, kind, source
"""


def board() -> Board:
    variables = [
        query_var(
            "model",
            "Model",
            f"SELECT DISTINCT model_name FROM {PREDICTIONS} WHERE $__timeFilter(ts) ORDER BY 1",
            multi=True,
            include_all=True,
            refresh=2,
            default="$__all",
        ),
        custom_var(
            "live_within",
            "Live within",
            [("1 h", "3600"), ("1 d", "86400"), ("3 d", "259200"), ("7 d", "604800")],
            "259200",
        ),
    ]
    b = Board(
        uid="otel-impact-instrumentation",
        title="otel-impact · Instrumentation health",
        description="Is the telemetry arriving? Prediction volume and latency per version, errors, ingest, "
        "receiver / Collector counters, analyzer runs and metric-tree sources.",
        variables=variables,
        time_from="now-7d",
    )
    b.panel(
        "timeseries",
        "Predictions/s by version (ml.predictions, unsampled)",
        PREDICTION_RATE,
        unit="ops",
        description="Rate of the ml.predictions counter: exact counts, never sampled.",
    )
    b.panel(
        "timeseries",
        "Predictions/s by version (prediction spans, re-weighted)",
        SPAN_VOLUME,
        unit="ops",
        description="Σ adjusted_count of stored prediction spans: should match the counter when sampling "
        "is accounted for correctly.",
    )
    b.panel("timeseries", "Latency p50 / p95 by version (spans)", SPAN_LATENCY, unit="ms")
    b.panel(
        "timeseries", "Mean latency by version (ml.prediction.duration histogram)", HISTOGRAM_MEAN, unit="ms"
    )
    b.panel("timeseries", "Error rate by version (spans)", SPAN_ERRORS, unit="percentunit")
    b.panel(
        "timeseries",
        "Rows stored per signal",
        INGEST,
        unit="rowsps",
        description="Rows in the exporter tables per second of their own timestamps.",
    )
    b.panel(
        "timeseries",
        "Receiver / Collector throughput",
        SELF_METRICS,
        w=24,
        unit="ops",
        description="otel_impact.receiver.items.* (embedded receiver) and otelcol_receiver_* / "
        "otelcol_exporter_* (Collector self-metrics, when scraped into the store).",
    )
    b.panel("table", "Analyzer runs", RUNS, w=16, description="impact_job_state: one row per finished run.")
    b.panel(
        "stat",
        "Watermark lag",
        WATERMARK_LAG,
        w=8,
        unit="h",
        description="Hours between the end of the range and the last successfully analysed window end.",
    )
    b.panel(
        "table",
        "Metric-tree sources",
        TREE_SOURCES,
        w=24,
        description="Events, models and metrics a metric-tree node can read; Live when seen within "
        "${live_within} s of the end of the range, else Needs data.",
    )
    return b
