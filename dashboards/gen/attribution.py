"""Dashboard 3 — Attribution, lift and ROI: business value attributed to each model version under
each attribution model, the treatment-vs-control lift with its interval, ROI / net benefit, and
the KPI table before and after a rollout.
"""

from __future__ import annotations

from gen.grafana import Board, ci_band, query_var, unit_override
from gen.sql import ALERT_ANNOTATION, METRICS, PREDICTIONS

ALL_USERS = "Attributes['impact.segment.key'] = 'all'"

ATTRIBUTION_TABLE = f"""
SELECT model, version, attribution_model,
  argMaxIf(Value, (TimeUnix, LatestRunId), MetricName = 'impact.attributed.value') AS attributed_value,
  argMaxIf(Value, (TimeUnix, LatestRunId), MetricName = 'impact.attributed.credit') AS conversions,
  max(TimeUnix) AS window_end
FROM (
  SELECT MetricName, TimeUnix, LatestRunId, Value,
    Attributes['ml.model.name'] AS model,
    Attributes['ml.model.version'] AS version,
    Attributes['impact.attribution.model'] AS attribution_model
  FROM {METRICS}
  WHERE MetricName IN ('impact.attributed.value', 'impact.attributed.credit')
    AND Attributes['impact.business_metric'] = ${{business_metric:singlequote}}
    AND $__conditionalAll(Attributes['impact.attribution.model'] IN (${{attribution_model:singlequote}}), $attribution_model)
    AND {ALL_USERS} AND $__timeFilter(TimeUnix)
)
GROUP BY model, version, attribution_model
ORDER BY attribution_model, version
"""

ATTRIBUTION_RUNS = f"""
SELECT TimeUnix AS time,
  concat(Attributes['ml.model.version'], ' · ', Attributes['impact.attribution.model']) AS series,
  argMax(Value, LatestRunId) AS attributed_value
FROM {METRICS}
WHERE MetricName = 'impact.attributed.value'
  AND Attributes['impact.business_metric'] = ${{business_metric:singlequote}}
  AND $__conditionalAll(Attributes['impact.attribution.model'] IN (${{attribution_model:singlequote}}), $attribution_model)
  AND {ALL_USERS} AND $__timeFilter(TimeUnix)
GROUP BY time, series
ORDER BY time
"""

LLM_COST = f"""
SELECT business_metric, model, version,
  argMaxIf(Value, (TimeUnix, LatestRunId), MetricName = 'impact.cost.total') AS cost,
  argMaxIf(Value, (TimeUnix, LatestRunId), MetricName = 'impact.cost.per_outcome') AS cost_per_outcome,
  argMaxIf(Value, (TimeUnix, LatestRunId), MetricName = 'impact.cost.per_value') AS cost_per_value
FROM (
  SELECT MetricName, TimeUnix, LatestRunId, Value,
    Attributes['impact.business_metric'] AS business_metric,
    Attributes['ml.model.name'] AS model,
    if(Attributes['ml.model.version'] = '', 'all', Attributes['ml.model.version']) AS version
  FROM {METRICS}
  WHERE MetricName IN ('impact.cost.total', 'impact.cost.per_outcome', 'impact.cost.per_value')
    AND {ALL_USERS} AND $__timeFilter(TimeUnix)
)
GROUP BY business_metric, model, version
ORDER BY business_metric, model, version
"""

LIFT_TABLE = f"""
SELECT segment, treatment, control, method,
  argMaxIf(Value, (TimeUnix, LatestRunId), MetricName = 'impact.lift') AS lift,
  argMaxIf(Value, (TimeUnix, LatestRunId), MetricName = 'impact.lift.ci_low') AS ci_low,
  argMaxIf(Value, (TimeUnix, LatestRunId), MetricName = 'impact.lift.ci_high') AS ci_high,
  argMaxIf(Value, (TimeUnix, LatestRunId), MetricName = 'impact.lift.pvalue') AS pvalue
FROM (
  SELECT MetricName, TimeUnix, LatestRunId, Value,
    concat(Attributes['impact.segment.key'], '=', Attributes['impact.segment.value']) AS segment,
    Attributes['impact.treatment'] AS treatment,
    Attributes['impact.control'] AS control,
    Attributes['impact.method'] AS method
  FROM {METRICS}
  WHERE MetricName IN ('impact.lift', 'impact.lift.ci_low', 'impact.lift.ci_high', 'impact.lift.pvalue')
    AND Attributes['impact.business_metric'] = ${{business_metric:singlequote}}
    AND $__timeFilter(TimeUnix)
)
GROUP BY segment, treatment, control, method
ORDER BY segment = 'all=all' DESC, lift DESC
"""

# impact.rollout.effect: the rollout-impact stage's preferred estimate per rollout × segment
# (synthetic control / DiD / interrupted time series), for rollouts without an A/B test
ROLLOUT_TABLE = f"""
SELECT rollout, segment, method, verdict, since,
  argMaxIf(Value, (TimeUnix, LatestRunId), MetricName = 'impact.rollout.effect') AS effect,
  argMaxIf(Value, (TimeUnix, LatestRunId), MetricName = 'impact.rollout.effect.ci_low') AS ci_low,
  argMaxIf(Value, (TimeUnix, LatestRunId), MetricName = 'impact.rollout.effect.ci_high') AS ci_high,
  argMaxIf(Value, (TimeUnix, LatestRunId), MetricName = 'impact.rollout.effect.pvalue') AS pvalue,
  argMaxIf(Value, (TimeUnix, LatestRunId), MetricName = 'impact.rollout.mde') AS mde
FROM (
  SELECT MetricName, TimeUnix, LatestRunId, Value,
    Attributes['impact.rollout.name'] AS rollout,
    concat(Attributes['impact.segment.key'], '=', Attributes['impact.segment.value']) AS segment,
    Attributes['impact.method'] AS method,
    Attributes['impact.rollout.verdict'] AS verdict,
    Attributes['impact.rollout.start'] AS since
  FROM {METRICS}
  WHERE MetricName IN ('impact.rollout.effect', 'impact.rollout.effect.ci_low', 'impact.rollout.effect.ci_high',
                       'impact.rollout.effect.pvalue', 'impact.rollout.mde')
    AND Attributes['impact.business_metric'] = ${{business_metric:singlequote}}
    AND Attributes['impact.rollout.preferred'] = 'true'
    AND $__timeFilter(TimeUnix)
)
GROUP BY rollout, segment, method, verdict, since
ORDER BY rollout, segment = 'all=all' DESC, segment
"""

LIFT_RUNS = f"""
SELECT TimeUnix AS time,
  argMaxIf(Value, LatestRunId, MetricName = 'impact.lift') AS lift,
  argMaxIf(Value, LatestRunId, MetricName = 'impact.lift.ci_low') AS ci_low,
  argMaxIf(Value, LatestRunId, MetricName = 'impact.lift.ci_high') AS ci_high
FROM {METRICS}
WHERE MetricName IN ('impact.lift', 'impact.lift.ci_low', 'impact.lift.ci_high')
  AND Attributes['impact.business_metric'] = ${{business_metric:singlequote}}
  AND {ALL_USERS} AND $__timeFilter(TimeUnix)
GROUP BY time
ORDER BY time
"""

ROI = f"""
SELECT concat(Attributes['ml.model.name'], ' ', Attributes['ml.model.version']) AS version,
  argMax(Value, (TimeUnix, LatestRunId)) AS value
FROM {METRICS}
WHERE MetricName = {{metric}} AND $__timeFilter(TimeUnix)
GROUP BY version
ORDER BY version
"""

# KPI table around ${rollout}: a bucket (impact.series, all users, all versions) counts as "before"
# when it ended at or before the rollout.
KPI = f"""
SELECT kpi,
  avgIf(Value, TimeUnix <= rollout) AS before,
  avgIf(Value, TimeUnix > rollout) AS after,
  after - before AS change,
  if(before != 0, (after - before) / abs(before), nan) AS change_pct,
  countIf(TimeUnix <= rollout) AS buckets_before,
  countIf(TimeUnix > rollout) AS buckets_after
FROM (
  SELECT Attributes['impact.series.name'] AS kpi, TimeUnix, argMax(Value, LatestRunId) AS Value,
    parseDateTimeBestEffortOrZero(${{rollout:singlequote}}) AS rollout
  FROM {METRICS}
  WHERE MetricName = 'impact.series' AND {ALL_USERS} AND Attributes['ml.model.version'] = ''
    AND Attributes['impact.business_metric'] IN ('', ${{business_metric:singlequote}})
    AND (Attributes['impact.series.kind'] = 'model' OR Attributes['impact.series.name'] = ${{business_metric:singlequote}}
         OR Attributes['impact.series.name'] LIKE concat(${{business_metric:singlequote}}, '.%'))
    AND $__timeFilter(TimeUnix)
  GROUP BY kpi, TimeUnix
)
GROUP BY kpi
ORDER BY kpi
"""


def board() -> Board:
    variables = [
        query_var(
            "business_metric",
            "Business metric",
            f"SELECT DISTINCT Attributes['impact.business_metric'] FROM {METRICS} "
            "WHERE MetricName IN ('impact.attributed.value', 'impact.lift') ORDER BY 1",
            default="purchase",
        ),
        query_var(
            "attribution_model",
            "Attribution model",
            f"SELECT DISTINCT Attributes['impact.attribution.model'] FROM {METRICS} "
            "WHERE MetricName = 'impact.attributed.value' ORDER BY 1",
            multi=True,
            include_all=True,
            default="$__all",
        ),
        query_var(
            "rollout",
            "Rollout (first prediction of the newest version)",
            f"SELECT formatDateTime(min(ts), '%Y-%m-%d %H:%i:%S') FROM {PREDICTIONS} "
            f"WHERE $__timeFilter(ts) AND model_version = "
            f"(SELECT argMax(model_version, ts) FROM {PREDICTIONS} WHERE $__timeFilter(ts))",
            refresh=2,
        ),
    ]
    b = Board(
        uid="otel-impact-attribution-roi",
        title="otel-impact · Attribution, lift and ROI",
        description="Which model version earned what, did the treatment beat the control, and did it pay?",
        variables=variables,
        annotations=[ALERT_ANNOTATION],
    )
    b.panel(
        "table",
        "Attributed ${business_metric} by model version and attribution model (latest run, all users)",
        ATTRIBUTION_TABLE,
        w=14,
        description="impact.attributed.value and .credit: the same conversions credited under each attribution "
        "model (last/first touch, linear, position-based, time decay, Markov, Shapley).",
    )
    b.panel(
        "timeseries",
        "Attributed ${business_metric} per run",
        ATTRIBUTION_RUNS,
        w=10,
        custom={"showPoints": "always"},
    )
    b.panel(
        "table",
        "Lift on ${business_metric}: treatment vs control (latest run, 95% CI)",
        LIFT_TABLE,
        w=14,
        unit="percentunit",
        description="Relative lift mean_t / mean_c − 1 with a percentile-bootstrap interval; Welch p-value.",
        overrides=[unit_override("pvalue", "none")],
    )
    b.panel(
        "timeseries",
        "Lift per run, all users (95% CI)",
        LIFT_RUNS,
        w=10,
        unit="percentunit",
        overrides=ci_band("ci_low", "ci_high"),
        custom={"showPoints": "always"},
    )
    b.panel(
        "table",
        "Rollout impact on ${business_metric} without an A/B test (latest run, 95% CI)",
        ROLLOUT_TABLE,
        w=24,
        h=8,
        unit="percentunit",
        description="impact.rollout.effect: the relative effect of each rollout per segment from the preferred "
        "quasi-experimental method (synthetic control against not-yet-treated segments, else DiD, else "
        "interrupted time series). verdict 'refused' = no claim (poor pre-period fit or too few buckets); "
        "mde = smallest effect the data could detect. See docs/quasi-experiments.md.",
        overrides=[unit_override("pvalue", "none")],
    )
    b.panel("stat", "ROI (latest run)", ROI.replace("{metric}", "'impact.roi'"), w=6, h=5, unit="percent")
    b.panel(
        "stat",
        "Net benefit (latest run)",
        ROI.replace("{metric}", "'impact.net_benefit'"),
        w=6,
        h=5,
        unit="none",
    )
    b.panel(
        "table",
        "LLM cost per business outcome by model and prompt version (latest run, all users)",
        LLM_COST,
        w=12,
        h=5,
        description="impact.cost.*: token cost (llm.prices or llm.cost.* span attributes) of LLM predictions "
        "divided by the outcomes and value the attribution credited to each version (docs/llm.md).",
    )
    b.panel(
        "table",
        "KPIs before and after the rollout (${rollout})",
        KPI,
        w=12,
        h=10,
        description="Mean of each analyzer bucket series (all users, all versions) before and after the rollout "
        "time; the rollout defaults to the first prediction of the newest model version in range.",
    )
    return b
