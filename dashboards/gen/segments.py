"""Dashboard 2 — Segments: where does the model matter? Per-segment correlation and lift tables
(latest run in range, deduplicated), per-segment series for one model version, and drill-down
links from a segment row into the Model ↔ Business dashboard for that segment.
"""

from __future__ import annotations

from gen.grafana import Board, link_override, query_var, unit_override
from gen.sql import METRICS, PREDICTIONS

SEGMENTS = """Attributes['impact.segment.key'] NOT IN ('all', '')
  AND $__conditionalAll(Attributes['impact.segment.key'] IN (${segment_key:singlequote}), $segment_key)
  AND $__conditionalAll(Attributes['impact.segment.value'] IN (${segment_value:singlequote}), $segment_value)"""

VERSION = "Attributes['ml.model.version'] = if(${model_version:singlequote} = 'all', '', ${model_version:singlequote})"

CORRELATION = f"""
SELECT segment_key, segment_value, model_metric,
  argMaxIf(lag_s, (TimeUnix, LatestRunId), MetricName = 'impact.correlation') / 86400 AS lag_days,
  argMaxIf(Value, (TimeUnix, LatestRunId), MetricName = 'impact.correlation') AS r,
  argMaxIf(Value, (TimeUnix, LatestRunId), MetricName = 'impact.correlation.ci_low') AS ci_low,
  argMaxIf(Value, (TimeUnix, LatestRunId), MetricName = 'impact.correlation.ci_high') AS ci_high,
  argMaxIf(Value, (TimeUnix, LatestRunId), MetricName = 'impact.correlation.pvalue') AS pvalue,
  if(ci_low > 0, ci_low, if(ci_high < 0, -ci_high, 0)) AS strength
FROM (
  SELECT MetricName, TimeUnix, LatestRunId, Value,
    Attributes['impact.segment.key'] AS segment_key,
    Attributes['impact.segment.value'] AS segment_value,
    Attributes['impact.model_metric'] AS model_metric,
    toFloat64OrZero(Attributes['impact.lag_s']) AS lag_s
  FROM {METRICS}
  WHERE MetricName IN ('impact.correlation', 'impact.correlation.ci_low',
                       'impact.correlation.ci_high', 'impact.correlation.pvalue')
    AND Attributes['impact.method'] = 'pearson'
    AND Attributes['impact.business_metric'] = ${{business_metric:singlequote}}
    AND {SEGMENTS} AND $__timeFilter(TimeUnix)
)
GROUP BY segment_key, segment_value, model_metric
ORDER BY strength DESC, abs(r) DESC
"""

LIFT = f"""
SELECT segment_key, segment_value, treatment, control,
  argMaxIf(Value, (TimeUnix, LatestRunId), MetricName = 'impact.lift') AS lift,
  argMaxIf(Value, (TimeUnix, LatestRunId), MetricName = 'impact.lift.ci_low') AS ci_low,
  argMaxIf(Value, (TimeUnix, LatestRunId), MetricName = 'impact.lift.ci_high') AS ci_high,
  argMaxIf(Value, (TimeUnix, LatestRunId), MetricName = 'impact.lift.pvalue') AS pvalue
FROM (
  SELECT MetricName, TimeUnix, LatestRunId, Value,
    Attributes['impact.segment.key'] AS segment_key,
    Attributes['impact.segment.value'] AS segment_value,
    Attributes['impact.treatment'] AS treatment,
    Attributes['impact.control'] AS control
  FROM {METRICS}
  WHERE MetricName IN ('impact.lift', 'impact.lift.ci_low', 'impact.lift.ci_high', 'impact.lift.pvalue')
    AND Attributes['impact.business_metric'] = ${{business_metric:singlequote}}
    AND {SEGMENTS} AND $__timeFilter(TimeUnix)
)
GROUP BY segment_key, segment_value, treatment, control
ORDER BY lift DESC
"""

SERIES = f"""
SELECT TimeUnix AS time,
  concat(Attributes['impact.segment.key'], '=', Attributes['impact.segment.value']) AS segment,
  argMax(Value, LatestRunId) AS value
FROM {METRICS}
WHERE MetricName = 'impact.series' AND Attributes['impact.series.name'] = {{name}}
  AND {{version}} AND {SEGMENTS} AND $__timeFilter(TimeUnix)
GROUP BY time, segment
ORDER BY time
"""

ATTRIBUTED = f"""
SELECT segment_key, segment_value, version,
  argMaxIf(Value, (TimeUnix, LatestRunId), MetricName = 'impact.attributed.value') AS attributed_value,
  argMaxIf(Value, (TimeUnix, LatestRunId), MetricName = 'impact.attributed.credit') AS conversions
FROM (
  SELECT MetricName, TimeUnix, LatestRunId, Value,
    Attributes['impact.segment.key'] AS segment_key,
    Attributes['impact.segment.value'] AS segment_value,
    Attributes['ml.model.version'] AS version
  FROM {METRICS}
  WHERE MetricName IN ('impact.attributed.value', 'impact.attributed.credit')
    AND Attributes['impact.business_metric'] = ${{business_metric:singlequote}}
    AND Attributes['impact.attribution.model'] = ${{attribution_model:singlequote}}
    AND (${{model_version:singlequote}} = 'all' OR Attributes['ml.model.version'] = ${{model_version:singlequote}})
    AND {SEGMENTS} AND $__timeFilter(TimeUnix)
)
GROUP BY segment_key, segment_value, version
ORDER BY attributed_value DESC
"""

SPAN_VOLUME = f"""
SELECT $__timeInterval(ts) AS time, concat(k, '=', segments[k]) AS segment, sum(adjusted_count) AS predictions
FROM {PREDICTIONS}
ARRAY JOIN mapKeys(segments) AS k
WHERE $__timeFilter(ts)
  AND (${{model_version:singlequote}} = 'all' OR model_version = ${{model_version:singlequote}})
  AND $__conditionalAll(k IN (${{segment_key:singlequote}}), $segment_key)
  AND $__conditionalAll(segments[k] IN (${{segment_value:singlequote}}), $segment_value)
GROUP BY time, segment
ORDER BY time
"""

_DRILL = (
    "/d/otel-impact-model-business?var-datasource=${datasource}&var-database=${database}"
    "&var-segment_key=${__data.fields.segment_key}&var-segment_value=${__data.fields.segment_value}"
    "&var-business_metric=${business_metric}&${__url_time_range}"
)


def board() -> Board:
    variables = [
        query_var(
            "segment_key",
            "Segment key",
            f"SELECT DISTINCT Attributes['impact.segment.key'] FROM {METRICS} "
            "WHERE MetricName = 'impact.series' AND Attributes['impact.segment.key'] NOT IN ('all', '') ORDER BY 1",
            include_all=True,
            default="$__all",
        ),
        query_var(
            "segment_value",
            "Segment value",
            f"SELECT DISTINCT Attributes['impact.segment.value'] FROM {METRICS} "
            "WHERE MetricName = 'impact.series' AND Attributes['impact.segment.key'] NOT IN ('all', '') "
            "AND $__conditionalAll(Attributes['impact.segment.key'] IN (${segment_key:singlequote}), $segment_key) "
            "ORDER BY 1",
            multi=True,
            include_all=True,
            default="$__all",
        ),
        query_var(
            "model_version",
            "Model version",
            f"SELECT 'all' UNION ALL SELECT DISTINCT model_version FROM {PREDICTIONS} "
            "WHERE $__timeFilter(ts) AND model_version != ''",
            refresh=2,
            default="all",
        ),
        query_var(
            "model_metric",
            "Model metric",
            f"SELECT DISTINCT Attributes['impact.series.name'] FROM {METRICS} "
            "WHERE MetricName = 'impact.series' AND Attributes['impact.series.kind'] = 'model' ORDER BY 1",
            default="ctr",
        ),
        query_var(
            "business_metric",
            "Business metric",
            f"SELECT DISTINCT Attributes['impact.business_metric'] FROM {METRICS} "
            "WHERE MetricName IN ('impact.correlation', 'impact.lift', 'impact.attributed.value') ORDER BY 1",
            default="purchase",
        ),
        query_var(
            "attribution_model",
            "Attribution model",
            f"SELECT DISTINCT Attributes['impact.attribution.model'] FROM {METRICS} "
            "WHERE MetricName = 'impact.attributed.value' ORDER BY 1",
            default="linear",
        ),
    ]
    b = Board(
        uid="otel-impact-segments",
        title="otel-impact · Segments",
        description="Where model improvements matter most: per-segment correlation, lift and attributed value.",
        variables=variables,
    )
    drill = [
        link_override(
            "segment_value", "Model ↔ Business for ${__data.fields.segment_key}=${__value.raw}", _DRILL
        ),
    ]
    b.panel(
        "table",
        "Per-segment correlation with ${business_metric} (latest run, Pearson at the best lag)",
        CORRELATION,
        w=24,
        description="Ranked by the conservative strength of the relationship: the CI bound nearest zero "
        "(0 when the interval covers zero). Click a segment value to open Model ↔ Business for it.",
        overrides=drill,
    )
    b.panel(
        "table",
        "Per-segment lift on ${business_metric} (latest run, 95% CI)",
        LIFT,
        unit="percentunit",
        description="impact.lift (treatment vs control, relative) with its bootstrap interval and Welch p-value.",
        overrides=[*drill, unit_override("pvalue", "none")],
    )
    b.panel(
        "table",
        "Attributed ${business_metric} by segment (${attribution_model})",
        ATTRIBUTED,
        description="impact.attributed.value / .credit of the latest run per segment and model version.",
        overrides=drill,
    )
    b.panel(
        "timeseries",
        "${model_metric} by segment (version ${model_version})",
        SERIES.replace("{name}", "${model_metric:singlequote}").replace(
            "{version}",
            VERSION + " AND Attributes['impact.business_metric'] IN ('', ${business_metric:singlequote})",
        ),
        description="impact.series buckets of the model metric per segment value (version 'all' = every version).",
        custom={"showPoints": "auto"},
    )
    b.panel(
        "timeseries",
        "${business_metric} value per user by segment",
        SERIES.replace("{name}", "concat(${business_metric:singlequote}, '.value_per_user')").replace(
            "{version}", "1=1"
        ),
        description="impact.series business value per active user, per segment value.",
    )
    b.panel(
        "timeseries",
        "Predictions by segment (prediction spans, re-weighted for sampling)",
        SPAN_VOLUME,
        w=24,
        description="Σ adjusted_count of prediction spans per interval and segment value (impact_predictions).",
    )
    return b
