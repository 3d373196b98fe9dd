"""Dashboard 4 — Incidents and data quality: model metrics annotated with the analyzer's
incidents, notable upstream pipeline events and its own annotation rows; score drift (PSI against
a reference period, computed live), score quantiles, pipeline freshness, incident and alert tables.
"""

from __future__ import annotations

from gen.grafana import Board, annotation, custom_var, query_var
from gen.sql import ALERT_ANNOTATION, EVENTS, METRICS, PREDICTIONS, RAW_EVENTS

MODEL = "model_name = ${model:singlequote}"

INCIDENT_ANNOTATION = annotation(
    "Incidents",
    f"""
SELECT parseDateTime64BestEffortOrNull(LogAttributes['impact.incident.start'], 3) AS time,
  parseDateTime64BestEffortOrNull(LogAttributes['impact.incident.end'], 3) AS timeEnd,
  concat(IncidentMetric, ' anomaly', if(SegmentValue NOT IN ('', 'all'), concat(' (', SegmentKey, '=', SegmentValue, ')'), '')) AS title,
  concat(Body, if(LogAttributes['impact.incident.linked'] != '', concat(' — linked: ', LogAttributes['impact.incident.linked']), '')) AS text,
  concat('incident,', IncidentMetric) AS tags
FROM {EVENTS}
WHERE EventName = 'impact.incident' AND $__timeFilter(Timestamp)
ORDER BY time
""",
    "orange",
)

NOTABLE = """(event_name = 'pipeline.incident' OR attributes['pipeline.status'] NOT IN ('success', '')
  OR attributes['pipeline.change'] != '')"""

PIPELINE_ANNOTATION = annotation(
    "Pipeline events",
    f"""
SELECT ts AS time,
  concat(attributes['pipeline.name'], ': ', if(attributes['pipeline.change'] != '', attributes['pipeline.change'], attributes['pipeline.status'])) AS title,
  concat(event_name, ' dataset=', attributes['dataset.name'], ' version=', attributes['data.version']) AS text,
  concat('pipeline,', attributes['pipeline.name']) AS tags
FROM {RAW_EVENTS}
WHERE startsWith(event_name, 'pipeline.') AND {NOTABLE} AND $__timeFilter(ts)
ORDER BY time
""",
    "purple",
)

# impact_annotations: the analyzer job writes one set of rows per successful run; the latest run
# per (kind, model, segment, start) wins.
STORED_ANNOTATION = annotation(
    "Analyzer annotations (incidents, pipeline events, drift)",
    """
SELECT start AS time, argMax(end, run_id) AS timeEnd, argMax(title, run_id) AS title,
  argMax(text, run_id) AS text, concat(kind, ',', argMax(severity, run_id)) AS tags
FROM ${database}.impact_annotations
WHERE (model = ${model:singlequote} OR model = '') AND $__timeFilter(start)
GROUP BY kind, model, segment, start
ORDER BY time
""",
    "yellow",
)

MODEL_METRICS = f"""
SELECT TimeUnix AS time, Attributes['impact.series.name'] AS metric, argMax(Value, LatestRunId) AS value
FROM {METRICS}
WHERE MetricName = 'impact.series' AND Attributes['impact.series.kind'] = 'model'
  AND Attributes['impact.segment.key'] = 'all' AND Attributes['ml.model.version'] = ''
  AND $__conditionalAll(Attributes['impact.series.name'] IN (${{metric:singlequote}}), $metric)
  AND $__timeFilter(TimeUnix)
GROUP BY time, metric
ORDER BY time
"""

# PSI of each interval's scores against the first ${reference} of the range, on the reference's
# decile bins (proportions floored at 1e-4), as the analyzer's incidents stage defines it.
PSI = f"""
WITH
  (SELECT quantiles(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)(score) FROM {PREDICTIONS}
   WHERE {MODEL} AND isFinite(score) AND ts >= $__fromTime AND ts < $__fromTime + toIntervalSecond(${{reference}})) AS edges,
  (SELECT sumForEach(arrayMap(i -> toFloat64(i = arrayCount(e -> e <= score, edges)) * adjusted_count, range(10)))
   FROM {PREDICTIONS}
   WHERE {MODEL} AND isFinite(score) AND ts >= $__fromTime AND ts < $__fromTime + toIntervalSecond(${{reference}})) AS ref
SELECT time,
  arraySum(arrayMap((a, e) -> (a - e) * log(a / e),
    arrayMap(x -> greatest(x / arraySum(cur), 1e-4), cur),
    arrayMap(x -> greatest(x / arraySum(ref), 1e-4), ref))) AS psi,
  arraySum(cur) AS predictions
FROM (
  SELECT $__timeInterval(ts) AS time,
    sumForEach(arrayMap(i -> toFloat64(i = arrayCount(e -> e <= score, edges)) * adjusted_count, range(10))) AS cur
  FROM {PREDICTIONS}
  WHERE {MODEL} AND isFinite(score) AND $__timeFilter(ts)
  GROUP BY time
)
WHERE length(ref) = 10 AND arraySum(ref) > 0
ORDER BY time
"""

QUANTILES = f"""
SELECT $__timeInterval(ts) AS time, model_version AS version,
  quantileExactWeighted(0.1)(score, toUInt64(round(adjusted_count))) AS p10,
  quantileExactWeighted(0.5)(score, toUInt64(round(adjusted_count))) AS p50,
  quantileExactWeighted(0.9)(score, toUInt64(round(adjusted_count))) AS p90
FROM {PREDICTIONS}
WHERE {MODEL} AND isFinite(score) AND $__timeFilter(ts)
GROUP BY time, version
ORDER BY time
"""

# Freshness from the observed cadence of successful runs: ok while the last success is at most
# 1.25 periods old, late up to 1.5 periods, then missing (relative to the end of the range).
FRESHNESS = f"""
SELECT pipeline, dataset, last_success,
  dateDiff('second', last_success, $__toTime) / 3600 AS age_h,
  period_s / 3600 AS period_h,
  multiIf(period_s = 0, 'unknown', dateDiff('second', last_success, $__toTime) <= 1.25 * period_s, 'ok',
          dateDiff('second', last_success, $__toTime) <= 1.5 * period_s, 'late', 'missing') AS status,
  runs, failures
FROM (
  SELECT attributes['pipeline.name'] AS pipeline, any(attributes['dataset.name']) AS dataset,
    toDateTime(maxIf(ts, attributes['pipeline.status'] = 'success')) AS last_success,
    ifNull(quantileExactIf(0.5)(gap, gap > 0 AND attributes['pipeline.status'] = 'success'), 0) AS period_s,
    countIf(event_name = 'pipeline.run') AS runs,
    countIf(attributes['pipeline.status'] NOT IN ('success', '')) AS failures
  FROM (
    SELECT ts, event_name, attributes,
      dateDiff('second', lagInFrame(ts, 1, ts) OVER (PARTITION BY attributes['pipeline.name'], attributes['pipeline.status'] ORDER BY ts
        ROWS BETWEEN 1 PRECEDING AND CURRENT ROW), ts) AS gap
    FROM {RAW_EVENTS}
    WHERE startsWith(event_name, 'pipeline.') AND $__timeFilter(ts)
  )
  GROUP BY pipeline
)
ORDER BY status = 'ok', pipeline
"""

INCIDENTS = f"""
SELECT Timestamp AS detected, IncidentMetric AS metric,
  concat(SegmentKey, '=', SegmentValue) AS segment,
  LogAttributes['impact.incident.start'] AS start, LogAttributes['impact.incident.end'] AS end,
  toFloat64OrNull(LogAttributes['impact.incident.magnitude']) AS magnitude,
  LogAttributes['impact.incident.linked'] AS linked_upstream, Body AS summary
FROM {EVENTS}
WHERE EventName = 'impact.incident' AND $__timeFilter(Timestamp)
ORDER BY detected DESC
"""

UPSTREAM = f"""
SELECT ts AS time, event_name, attributes['pipeline.name'] AS pipeline, attributes['dataset.name'] AS dataset,
  attributes['pipeline.status'] AS status, attributes['pipeline.change'] AS change, attributes['data.version'] AS data_version
FROM {RAW_EVENTS}
WHERE startsWith(event_name, 'pipeline.') AND {NOTABLE} AND $__timeFilter(ts)
ORDER BY time DESC
"""

ALERTS = f"""
SELECT Timestamp AS time, Rule AS rule, LogAttributes['impact.alert.severity'] AS severity,
  LogAttributes['impact.alert.state'] AS state, concat(SegmentKey, '=', SegmentValue) AS segment, Body AS message
FROM {EVENTS}
WHERE EventName = 'impact.alert' AND $__timeFilter(Timestamp)
ORDER BY time DESC
"""


def board() -> Board:
    variables = [
        query_var(
            "model",
            "Model",
            f"SELECT DISTINCT model_name FROM {PREDICTIONS} WHERE $__timeFilter(ts) ORDER BY 1",
            refresh=2,
        ),
        query_var(
            "metric",
            "Model metrics",
            f"SELECT DISTINCT Attributes['impact.series.name'] FROM {METRICS} "
            "WHERE MetricName = 'impact.series' AND Attributes['impact.series.kind'] = 'model' ORDER BY 1",
            multi=True,
            include_all=True,
            default="auc",
        ),
        custom_var(
            "reference",
            "Drift reference period",
            [("1 d", "86400"), ("3 d", "259200"), ("7 d", "604800")],
            "259200",
        ),
    ]
    b = Board(
        uid="otel-impact-incidents-quality",
        title="otel-impact · Incidents and data quality",
        description="When a model metric dips: what changed upstream? Anomalies, pipeline events, drift, freshness.",
        variables=variables,
        annotations=[INCIDENT_ANNOTATION, PIPELINE_ANNOTATION, ALERT_ANNOTATION, STORED_ANNOTATION],
    )
    b.panel(
        "timeseries",
        "Model metrics (analyzer buckets) with incidents and pipeline events",
        MODEL_METRICS,
        w=24,
        description="impact.series of the selected model metrics (all users, all versions). Annotations: "
        "incident ranges, failed / changed / late pipeline runs, analyzer alerts.",
        custom={"showPoints": "auto"},
    )
    b.panel(
        "timeseries",
        "Score drift: PSI per interval vs the first ${reference} s of the range",
        PSI,
        description="Population stability index of ${model}'s scores on the reference's decile bins "
        "(< 0.1 stable, 0.1–0.25 moderate, > 0.25 major), weighted by adjusted_count.",
        overrides=[
            {
                "matcher": {"id": "byName", "options": "predictions"},
                "properties": [
                    {"id": "custom.hideFrom", "value": {"viz": True, "legend": True, "tooltip": False}}
                ],
            }
        ],
        custom={"thresholdsStyle": {"mode": "line"}},
    )
    b.panel(
        "timeseries",
        "Score quantiles by version (p10 / p50 / p90)",
        QUANTILES,
        description="Weighted quantiles of prediction scores per interval and model version.",
    )
    b.panel(
        "table",
        "Pipeline freshness (at the end of the range)",
        FRESHNESS,
        description="Last successful run of each pipeline against its observed cadence (median gap between "
        "successful runs): ok ≤ 1.25 periods, late ≤ 1.5, else missing.",
    )
    b.panel("table", "Incidents (model-metric anomalies and their linked upstream cause)", INCIDENTS)
    b.panel("table", "Notable upstream pipeline events", UPSTREAM)
    b.panel("table", "Analyzer alerts (drift, accuracy, breakdown, business impact…)", ALERTS)
    return b
