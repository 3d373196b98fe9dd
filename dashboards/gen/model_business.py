"""Dashboard 1 — Model ↔ Business: the two series side by side at a chosen lag, their rolling
correlation with a confidence band, the analyzer's own correlation (effective-n CI) and transfer
slope per run, and the analyzer's alerts as annotations.

impact.* data is read only from the deduplicated view ``impact_metrics_latest`` (one row per
metric × attributes × time, valued from the latest run); where a re-run may have changed a key
attribute (the best lag), the row of the latest run (``LatestRunId``) wins.
"""

from __future__ import annotations

from gen.grafana import Board, ci_band, custom_var, query_var
from gen.sql import ALERT_ANNOTATION, BUSINESS_SERIES, METRICS, SEGMENT, segment_vars

LAGS = [
    ("0", "0"),
    ("1 h", "3600"),
    ("6 h", "21600"),
    ("1 d", "86400"),
    ("2 d", "172800"),
    ("3 d", "259200"),
    ("4 d", "345600"),
    ("5 d", "432000"),
    ("7 d", "604800"),
]

_MODEL = f"""
SELECT TimeUnix AS t, Value AS x FROM {METRICS}
WHERE MetricName = 'impact.series' AND Attributes['impact.series.name'] = ${{model_metric:singlequote}}
  AND Attributes['impact.business_metric'] IN ('', ${{business_metric:singlequote}})
  AND Attributes['ml.model.version'] = '' AND {SEGMENT} AND $__timeFilter(TimeUnix)
"""

_BUSINESS = f"""
SELECT TimeUnix - toIntervalSecond(${{lag}}) AS t, toNullable(Value) AS y FROM {METRICS}
WHERE MetricName = 'impact.series' AND Attributes['impact.series.name'] = {BUSINESS_SERIES}
  AND {SEGMENT} AND TimeUnix >= $__fromTime AND TimeUnix <= $__toTime + toIntervalSecond(${{lag}})
"""

SIDE_BY_SIDE = f"""
SELECT m.t AS time, m.x AS model, b.y AS business
FROM ({_MODEL}) AS m
LEFT JOIN ({_BUSINESS}) AS b ON m.t = b.t
ORDER BY time
"""

# Pearson r over the last ${window}+1 aligned buckets; Fisher-z interval with the plain n
# (the analyzer's intervals below use the effective sample size instead).
ROLLING = f"""
SELECT time, r,
  tanh(atanh(r) - 1.959964 / sqrt(n - 3)) AS ci_low,
  tanh(atanh(r) + 1.959964 / sqrt(n - 3)) AS ci_high
FROM (
  SELECT m.t AS time,
    corr(m.x, assumeNotNull(b.y)) OVER w AS r,
    count() OVER w AS n
  FROM ({_MODEL}) AS m
  INNER JOIN ({_BUSINESS}) AS b ON m.t = b.t
  WINDOW w AS (ORDER BY m.t ROWS BETWEEN ${{window}} PRECEDING AND CURRENT ROW)
)
WHERE n >= 5 AND abs(r) < 1
ORDER BY time
"""

_PAIR = f"""
Attributes['impact.model_metric'] = ${{model_metric:singlequote}}
  AND Attributes['impact.business_metric'] = ${{business_metric:singlequote}}
  AND {SEGMENT} AND $__timeFilter(TimeUnix)
"""

ANALYZER_CORRELATION = f"""
SELECT TimeUnix AS time,
  argMaxIf(Value, LatestRunId, MetricName = 'impact.correlation') AS r,
  argMaxIf(Value, LatestRunId, MetricName = 'impact.correlation.ci_low') AS ci_low,
  argMaxIf(Value, LatestRunId, MetricName = 'impact.correlation.ci_high') AS ci_high
FROM {METRICS}
WHERE MetricName IN ('impact.correlation', 'impact.correlation.ci_low', 'impact.correlation.ci_high')
  AND Attributes['impact.method'] = ${{method:singlequote}} AND {_PAIR}
GROUP BY time
ORDER BY time
"""

TRANSFER = f"""
SELECT TimeUnix AS time, Attributes['impact.model_metric'] AS model_metric,
  argMax(Value, LatestRunId) AS slope
FROM {METRICS}
WHERE MetricName = 'impact.transfer.slope'
  AND Attributes['impact.business_metric'] = ${{business_metric:singlequote}}
  AND {SEGMENT} AND $__timeFilter(TimeUnix)
GROUP BY time, model_metric
ORDER BY time
"""

BEST_LAG = f"""
SELECT TimeUnix AS time, argMax(Value, LatestRunId) / 86400 AS best_lag_days
FROM {METRICS}
WHERE MetricName = 'impact.correlation.best_lag' AND {_PAIR}
GROUP BY time
ORDER BY time
"""

LATEST = f"""
SELECT model_metric, business_metric, method,
  argMaxIf(lag_s, (TimeUnix, LatestRunId), MetricName = 'impact.correlation') / 86400 AS lag_days,
  argMaxIf(Value, (TimeUnix, LatestRunId), MetricName = 'impact.correlation') AS r,
  argMaxIf(Value, (TimeUnix, LatestRunId), MetricName = 'impact.correlation.ci_low') AS ci_low,
  argMaxIf(Value, (TimeUnix, LatestRunId), MetricName = 'impact.correlation.ci_high') AS ci_high,
  argMaxIf(Value, (TimeUnix, LatestRunId), MetricName = 'impact.correlation.pvalue') AS pvalue,
  max(TimeUnix) AS window_end
FROM (
  SELECT MetricName, TimeUnix, LatestRunId, Value,
    Attributes['impact.model_metric'] AS model_metric,
    Attributes['impact.business_metric'] AS business_metric,
    Attributes['impact.method'] AS method,
    toFloat64OrZero(Attributes['impact.lag_s']) AS lag_s
  FROM {METRICS}
  WHERE MetricName IN ('impact.correlation', 'impact.correlation.ci_low',
                       'impact.correlation.ci_high', 'impact.correlation.pvalue')
    AND {SEGMENT} AND $__timeFilter(TimeUnix)
)
GROUP BY model_metric, business_metric, method
ORDER BY abs(r) DESC
"""


def board() -> Board:
    model_metric = query_var(
        "model_metric",
        "Model metric",
        f"SELECT DISTINCT Attributes['impact.model_metric'] FROM {METRICS} "
        "WHERE MetricName = 'impact.correlation' ORDER BY 1",
        default="ctr",
    )
    business_metric = query_var(
        "business_metric",
        "Business metric",
        f"SELECT DISTINCT Attributes['impact.business_metric'] FROM {METRICS} "
        "WHERE MetricName = 'impact.correlation' ORDER BY 1",
        default="purchase",
    )
    measure = custom_var(
        "measure",
        "Business measure",
        [
            ("value", "value"),
            ("value per user", "value_per_user"),
            ("events", "events"),
            ("conversion rate", "conversion_rate"),
            ("active users", "active_users"),
        ],
        "value",
    )
    lag = custom_var("lag", "Lag (business after model)", LAGS, "0")
    method = custom_var("method", "Method", [("pearson", "pearson"), ("spearman", "spearman")], "pearson")
    window = custom_var(
        "window", "Rolling window", [("7 buckets", "6"), ("14 buckets", "13"), ("28 buckets", "27")], "13"
    )
    b = Board(
        uid="otel-impact-model-business",
        title="otel-impact · Model ↔ Business",
        description="Did the model move the business? Model and business series side by side at a lag, "
        "their correlation over time with confidence bands, and the transfer slope.",
        variables=[model_metric, business_metric, measure, *segment_vars(), lag, method, window],
        annotations=[ALERT_ANNOTATION],
    )
    axis_right = {
        "matcher": {"id": "byName", "options": "business"},
        "properties": [
            {"id": "custom.axisPlacement", "value": "right"},
            {"id": "displayName", "value": "${business_metric} ${measure} (t + ${lag} s)"},
        ],
    }
    model_name = {
        "matcher": {"id": "byName", "options": "model"},
        "properties": [{"id": "displayName", "value": "${model_metric}"}],
    }
    b.panel(
        "timeseries",
        "${model_metric} vs ${business_metric} (${measure}), business shifted back by the lag",
        SIDE_BY_SIDE,
        description="Per analyzer bucket (impact.series): the model series at t and the business series at "
        "t + lag, so a relationship at that lag lines up vertically. Segment: ${segment_key}=${segment_value}.",
        w=24,
        overrides=[model_name, axis_right],
    )
    b.panel(
        "timeseries",
        "Rolling correlation at the chosen lag (95% CI)",
        ROLLING,
        description="Pearson r of the aligned buckets over a rolling window, with a Fisher-z interval on the "
        "plain bucket count. Buckets are autocorrelated, so this band is optimistic; the analyzer's "
        "interval (next panel) uses the effective sample size.",
        overrides=ci_band("ci_low", "ci_high"),
        custom={"showPoints": "auto"},
    )
    b.panel(
        "timeseries",
        "Analyzer correlation per run, best lag (${method}, effective-n CI)",
        ANALYZER_CORRELATION,
        description="impact.correlation with impact.correlation.ci_low / ci_high at each analysed window's end.",
        overrides=ci_band("ci_low", "ci_high"),
        custom={"showPoints": "always"},
    )
    b.panel(
        "timeseries",
        "Transfer slope per run (business change per unit of model metric)",
        TRANSFER,
        description="impact.transfer.slope (OLS with Newey–West errors at the best lag) per model metric.",
        custom={"showPoints": "always"},
    )
    b.panel(
        "timeseries",
        "Best lag per run",
        BEST_LAG,
        unit="d",
        description="impact.correlation.best_lag: the lag with the largest |r| for this pair and segment.",
        custom={"showPoints": "always", "drawStyle": "points"},
    )
    b.panel(
        "table",
        "Latest correlations in range (segment ${segment_key}=${segment_value})",
        LATEST,
        w=24,
        description="The latest run's row per model metric × business metric × method.",
    )
    return b
