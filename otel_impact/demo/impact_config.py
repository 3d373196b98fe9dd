"""The ``impact.yaml`` the demo analyses its simulated world with (written into ``--out``).

:func:`demo_config_data` builds the configuration a data team would write for the simulated
services — business metrics with their join windows, segments, daily series, the lag scan, the
v2-vs-v1 lift per segment, ROI costs, the rollout time for the KPI table, the lineage of the
ranker's features down to the feature pipeline, and the export endpoint (the demo's own
receiver). :func:`validated_config` checks it with the real config model. A section this build
of the config model does not know yet is left out (and reported), so the demo still runs the
stages that exist.

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
from otel_impact.demo.world import WorldParams
from otel_impact.errors import ConfigError

HEADER = """\
# impact.yaml written by `otel-impact demo` for its simulated services.
# Reuse it: otel-impact analyze --config {path} --dsn <dsn> --database {database}
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
        "segments": ["platform", "tenure"],
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
        "job": {"name": "demo", "first_run": f"{params.days}d"},
    }
    if endpoint is not None:
        data["export"] = {
            "endpoint": endpoint,
            "protocol": "http/protobuf",
            "retries": 2,
            "retry_backoff": "1s",
        }
    else:
        data["export"] = {"enabled": False}
    return data


def validated_config(data: dict[str, Any]) -> tuple[ImpactConfig, dict[str, Any], list[str]]:
    """Validate ``data``; drop top-level sections this build does not accept.

    Returns the config, the data actually used, and notes on what was left out (a section the
    config model does not know, or one it rejects — named with the dotted path of the problem).
    """
    used = dict(data)
    notes: list[str] = []
    known = set(ImpactConfig.model_fields)
    for key in list(used):
        if key not in known:
            notes.append(f"section {key!r} left out: this build's config has no such section")
            del used[key]
    for _ in range(len(used) + 1):
        try:
            return config_from_dict(used, source="demo impact.yaml"), used, notes
        except ConfigError as exc:
            top = (exc.path or "").split(".")[0].split("[")[0]
            if top not in used or top in ("business_metrics", "database"):
                raise
            notes.append(f"section {top!r} left out: {exc}")
            del used[top]
    raise ConfigError("demo configuration could not be validated")


def config_yaml(data: dict[str, Any], *, path: str, database: str) -> str:
    """The YAML text of ``data`` with a header saying how to reuse it."""
    body = yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True)
    return HEADER.format(path=path, database=database) + body
