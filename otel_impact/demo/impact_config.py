"""The ``impact.yaml`` the demo analyses its simulated world with (written into ``--out``).

:func:`demo_config_data` builds the configuration a data team would write for the simulated
services — business metrics with their join windows, segments, daily series, the lag scan, the
v2-vs-v1 lift per segment, ROI costs, the rollout time for the KPI table, the lineage of the
ranker's features down to the feature pipeline, where results go (the store itself, so the
file works again after the demo's receiver is gone), the tracking plan of everything the services emit, and SLOs of the recommender
endpoint and the pipelines. :func:`validated_config` checks it with the real config model.

>>> from otel_impact.demo.world import WorldParams
>>> data = demo_config_data(WorldParams(users=100, days=10), database="demo", endpoint=None)
>>> [m["name"] for m in data["business_metrics"]]
['purchase', 'subscription']
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import yaml

from otel_impact import semconv
from otel_impact.config import ImpactConfig, config_from_dict
from otel_impact.config.job import STORE_ENDPOINT
from otel_impact.demo.emit import CURRENCY, SUBSCRIPTION_PRICE
from otel_impact.demo.world import VERSIONS, WorldParams

HEADER = """\
# impact.yaml written by `otel-impact demo` for its simulated services.
# Reuse it (same store as the demo; add --dsn if the demo was given one):
#   otel-impact analyze --config {path} --database {database}
# job.lookback spans the simulated period, so that incremental run re-analyses all of it;
# results go into the store itself (export.endpoint: store), no collector needed.
"""


def _iso(value: Any) -> str:
    return str(value.isoformat()).replace("+00:00", "Z")


def demo_config_data(params: WorldParams, *, database: str, endpoint: str | None) -> dict[str, Any]:
    """The demo's configuration as plain data (every section the analyzer may use)."""
    t = params.truth
    rollout = params.start + timedelta(days=t.rollout_day)
    data: dict[str, Any] = {
        "database": database,
        "models": [t.model],
        "segments": ["platform", "tenure", "market"],
        "business_metrics": [
            {
                "name": "purchase",
                "source": {"event": semconv.business_event("purchase")},
                "key": semconv.USER_ID,
                "window": "3d",
                "value": "sum",
            },
            {
                "name": "subscription",
                "source": {"event": semconv.business_event("subscription")},
                "key": semconv.USER_ID,
                "window": "30d",
                "value": "count",
            },
        ],
        "attribution": {
            "models": [
                "last_touch",
                "first_touch",
                "linear",
                "position_based",
                "time_decay",
                "markov",
                "shapley",
            ],
            "time_decay": {"half_life": "1d"},
        },
        # the recommender's scores are calibrated click probabilities, so their daily mean is the
        # model's CTR: that is the model metric correlated with the daily purchase value
        "series": {"bucket": "1d", "model_metrics": ["mean_score"], "business_measure": "value"},
        # a month of daily buckets: a 6-day recent window against 10-14 days of baseline; with so
        # few buckets per test a per-bucket level of 1 % (the default 0.2 % suits longer series)
        "correlation": {
            "max_lag": 5,
            "rolling_window": 6,
            "baseline_window": 14,
            "min_baseline_window": 10,
            "alert_alpha": 0.01,
        },
        # the A/B experiment: predictions served from the rollout on carry the arm as a feature flag
        "lift": {
            "treatment": {semconv.FEATURE_FLAG_VARIANT: "v2"},
            "control": {semconv.FEATURE_FLAG_VARIANT: "v1"},
            "metrics": ["purchase"],
            "expected_split": [0.5, 0.5],
        },
        "roi": {"cost_per_1k_predictions": 0.05, "fixed_cost_per_month": 500.0},
        "kpi": {"rollout": _iso(rollout)},
        "lineage": {
            "models": {t.model: {"features": [t.feature, "item_pop"]}},
            "features": {t.feature: {"datasets": [t.dataset]}, "item_pop": {"datasets": ["catalog"]}},
            "datasets": {t.dataset: {"pipelines": [t.pipeline]}, "catalog": {"pipelines": ["catalog_sync"]}},
        },
        "pipelines": {
            t.pipeline: {"schedule": "1d", "grace": "2h", "dataset": t.dataset},
            t.unrelated_pipeline: {"schedule": "1d", "grace": "2h", "dataset": t.unrelated_dataset},
        },
        # the simulated traffic has no weekly pattern: no seasonal baseline
        "incidents": {"metrics": ["auc"], "link_window": "3d", "bucket": "1d", "season": None},
        # the checkout widget's market-by-market launch (no A/B arm): its calendar, since no model
        # version marks it; daily purchase value per market, no weekly pattern in the simulation, and
        # a pre-fit limit of 15 % (a market's ~100 purchases a day vary by ~10 % at the default size)
        "rollout_impact": {
            "segment_key": "market",
            "metrics": ["purchase"],
            "measure": "value",
            "season": 1,
            "max_pre_rmspe": 0.15,
            "rollouts": [
                {
                    "name": t.widget,
                    "segments": {
                        m: _iso(params.start + timedelta(days=d))
                        for m, d in zip(t.widget_markets, t.widget_days, strict=True)
                    },
                }
            ],
        },
        # an incremental run after the demo re-analyses the whole simulated period: the demo's
        # own run ends the job's watermark at the period's end
        "job": {"name": "demo", "first_run": f"{params.days}d", "lookback": f"{params.days}d"},
        "tracking_plan": _tracking_plan(params),
        "slos": _slos(params),
    }
    if endpoint is not None:
        data["export"] = {
            "endpoint": endpoint,
            "protocol": "http/protobuf",
            "retries": 2,
            "retry_backoff": "1s",
        }
    else:
        data["export"] = {"endpoint": STORE_ENDPOINT}
    return data


def _tracking_plan(params: WorldParams) -> dict[str, Any]:
    """What the simulated services emit: the recommender's prediction spans and the events."""
    t = params.truth
    business = {
        semconv.BUSINESS_VALUE: {"type": "double", "required": True},
        semconv.BUSINESS_CURRENCY: {"type": "enum", "values": [CURRENCY], "required": True},
        semconv.USER_ID: {"type": "string", "required": True},
    }
    pipeline = {
        semconv.PIPELINE_NAME: {
            "type": "enum",
            "values": [t.pipeline, t.unrelated_pipeline],
            "required": True,
        },
        semconv.PIPELINE_STATUS: {"type": "enum", "values": ["success", "failed"], "required": True},
        semconv.DATASET_NAME: {"type": "enum", "values": [t.dataset, t.unrelated_dataset]},
        semconv.DATA_VERSION: "string",
        semconv.PIPELINE_CHANGE: "string",
    }
    run_example = {
        semconv.PIPELINE_NAME: t.pipeline,
        semconv.PIPELINE_STATUS: "success",
        semconv.DATASET_NAME: t.dataset,
    }
    return {
        "events": {
            semconv.business_event("purchase"): {
                "owner": "growth@shop.example",
                "description": "a completed checkout of the simulated shop",
                "attributes": business,
                "example": {
                    semconv.BUSINESS_VALUE: 27.5,
                    semconv.BUSINESS_CURRENCY: CURRENCY,
                    semconv.USER_ID: "u17",
                },
            },
            semconv.business_event("subscription"): {
                "owner": "growth@shop.example",
                "description": "a new subscription",
                "attributes": business,
                # subscriptions follow a first purchase by two to three weeks: the first weeks of
                # a simulated month have none by design, which is no volume drop
                "volume": False,
                "example": {
                    semconv.BUSINESS_VALUE: SUBSCRIPTION_PRICE,
                    semconv.BUSINESS_CURRENCY: CURRENCY,
                    semconv.USER_ID: "u17",
                },
            },
            semconv.EVENT_ML_OUTCOME: {
                "owner": "ml-platform@shop.example",
                "description": "whether the user clicked the recommendation",
                "attributes": {
                    semconv.ML_PREDICTION_ID: {"type": "string", "required": True},
                    semconv.ML_OUTCOME_LABEL: {"type": "enum", "values": ["0", "1"], "required": True},
                },
                "example": {semconv.ML_PREDICTION_ID: "9f0c2d", semconv.ML_OUTCOME_LABEL: "1"},
            },
            semconv.EVENT_PIPELINE_RUN: {
                "owner": "data-eng@shop.example",
                "description": "one run of a feature-platform pipeline",
                "attributes": pipeline,
                "example": run_example,
            },
            semconv.EVENT_PIPELINE_INCIDENT: {
                "owner": "data-eng@shop.example",
                "description": "a pipeline failure raised by the feature platform",
                "attributes": pipeline,
                "example": {**run_example, semconv.PIPELINE_STATUS: "failed"},
            },
        },
        "predictions": {
            t.model: {
                "owner": "ml-platform@shop.example",
                "description": "the recommender's click-probability scores",
                "attributes": {
                    semconv.ML_MODEL_VERSION: {"type": "enum", "values": list(VERSIONS), "required": True},
                    semconv.ML_PREDICTION_ID: {"type": "string", "required": True},
                    semconv.ML_PREDICTION_SCORE: {"type": "double", "required": True},
                    semconv.ML_PREDICTION_LABEL: {
                        "type": "enum",
                        "values": ["click", "skip"],
                        "required": True,
                    },
                    semconv.USER_ID: {"type": "string", "required": True},
                    semconv.SESSION_ID: "string",
                    # only from the rollout on: the experiment arm the prediction was served in
                    semconv.FEATURE_FLAG_VARIANT: {"type": "enum", "values": list(VERSIONS)},
                },
                "example": {
                    semconv.ML_MODEL_VERSION: VERSIONS[0],
                    semconv.ML_PREDICTION_ID: "9f0c2d",
                    semconv.ML_PREDICTION_SCORE: 0.73,
                    semconv.ML_PREDICTION_LABEL: "click",
                    semconv.USER_ID: "u17",
                },
            },
        },
        # a month of daily traffic: volume checked per day, not per (diurnal) hour
        "volume": {"bucket": "1d"},
    }


def _slos(params: WorldParams) -> dict[str, Any]:
    """SLOs of the recommender endpoint and of the feature pipeline the ranker depends on."""
    t = params.truth
    return {
        "period": f"{params.days}d",
        "step": "1h",
        "models": [
            {
                "name": "ranker-latency-p95",
                "model": t.model,
                "sli": "latency",
                "objective": 0.95,
                "threshold_ms": 60,
            },
            {"name": "ranker-errors", "model": t.model, "sli": "error_rate", "objective": 0.999},
        ],
        "pipelines": [
            {
                "name": "features-daily-success",
                "pipeline": t.pipeline,
                "sli": "success_rate",
                "objective": 0.95,
            },
            {
                "name": "features-daily-freshness",
                "pipeline": t.pipeline,
                "sli": "freshness",
                "objective": 0.95,
                "max_age": "26h",
            },
            {
                "name": "crm-sync-success",
                "pipeline": t.unrelated_pipeline,
                "sli": "success_rate",
                "objective": 0.95,
            },
        ],
    }


def validated_config(data: dict[str, Any]) -> ImpactConfig:
    """``data`` checked by the real config model (a :class:`ConfigError` names the dotted path)."""
    return config_from_dict(data, source="demo impact.yaml")


def config_yaml(data: dict[str, Any], *, path: str, database: str) -> str:
    """The YAML text of ``data`` with a header saying how to reuse it."""
    body = yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True)
    return HEADER.format(path=path, database=database) + body
