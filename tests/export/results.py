"""The result documents the tests of exporters, reports, digests and headlines run on.

:func:`recorded` and :func:`recorded_llm` are what the real pipeline produced for the reduced demo
(``tests/data/record_results.py``; ``tests/demo/test_demo_e2e.py`` checks that a fresh run still
produces them). :func:`full_result` is a small hand-made document kept only for the job-machinery
tests (watermark, export, exit codes), which need a fixed window and fixed alert states.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "data"))

from record_results import DEMO, LLM, load


def recorded() -> dict[str, Any]:
    """A fresh copy of the recorded demo result (seed 3, 2,000 users, 2026-10-21 .. 2026-11-20)."""
    return load(DEMO)


def recorded_llm() -> dict[str, Any]:
    """A fresh copy of the recorded result of the demo's LLM support assistant (cost per outcome)."""
    return load(LLM)


RECORDED_WINDOW: dict[str, str] = recorded()["window"]

WINDOW = {"start": "2026-11-01T00:00:00Z", "end": "2026-11-05T00:00:00Z"}
BUCKETS = [f"2026-11-0{d}T{h:02d}:00:00Z" for d in range(1, 5) for h in (0, 12)]


def full_result(window: dict[str, str] | None = None) -> dict[str, Any]:
    """Every contract section filled in, with values a real run could produce."""
    win = window or WINDOW
    return copy.deepcopy(
        {
            "window": win,
            "stitching": [
                {
                    "business_metric": "purchase",
                    "outcomes": 1200,
                    "attributed_outcomes": 1010,
                    "unattributed_outcomes": 190,
                    "value_total": 48210.5,
                }
            ],
            "attribution": [
                {
                    "business_metric": "purchase",
                    "model": "last_touch",
                    "ml.model.name": "recommender",
                    "ml.model.version": "1",
                    "segment": {},
                    "value": 21000.0,
                    "credit": 430.0,
                },
                {
                    "business_metric": "purchase",
                    "model": "last_touch",
                    "ml.model.name": "recommender",
                    "ml.model.version": "2",
                    "segment": {},
                    "value": 27210.5,
                    "credit": 580.0,
                },
                {
                    "business_metric": "purchase",
                    "model": "shapley",
                    "ml.model.name": "recommender",
                    "ml.model.version": "2",
                    "segment": {"platform": "ios"},
                    "value": 9000.0,
                    "credit": 190.5,
                },
            ],
            "series": [
                {
                    "name": "ctr",
                    "kind": "model",
                    "segment": {},
                    "buckets": BUCKETS,
                    "values": [0.10, 0.12, 0.11, 0.15, 0.16, 0.14, None, 0.18],
                },
                {
                    "name": "purchase",
                    "kind": "business",
                    "segment": {},
                    "buckets": BUCKETS,
                    "values": [100.0, 101.0, 120.0, 110.0, 150.0, 160.0, 140.0, 170.0],
                },
                {
                    "name": "ctr",
                    "kind": "model",
                    "segment": {"platform": "ios"},
                    "ml.model.version": "2",
                    "buckets": BUCKETS[:2],
                    "values": [0.2, 0.25],
                },
            ],
            "correlations": [
                {
                    "model_metric": "ctr",
                    "business_metric": "purchase",
                    "segment": {},
                    "lag_s": 43200,
                    "method": "pearson",
                    "estimate": 0.82,
                    "ci": [0.41, 0.95],
                    "pvalue": 0.012,
                    "n": 7,
                },
                {
                    "model_metric": "ctr",
                    "business_metric": "purchase",
                    "segment": {},
                    "lag_s": 0,
                    "method": "pearson",
                    "estimate": 0.55,
                    "ci": [-0.2, 0.9],
                    "pvalue": 0.2,
                    "n": 7,
                },
                {
                    "model_metric": "ctr",
                    "business_metric": "purchase",
                    "segment": {"platform": "ios"},
                    "lag_s": 0,
                    "method": "spearman",
                    "estimate": -0.3,
                    "ci": [-0.8, 0.4],
                    "pvalue": 0.4,
                    "n": 8,
                },
                {
                    "model_metric": "ctr",
                    "business_metric": "purchase",
                    "segment": {"platform": "web"},
                    "lag_s": 0,
                    "method": "spearman",
                    "estimate": None,
                    "ci": [None, None],
                    "pvalue": None,
                    "n": 2,
                },
            ],
            "segment_ranking": [{"segment": {"platform": "ios"}, "score": 0.3, "rank": 1}],
            "transfer": [
                {
                    "model_metric": "ctr",
                    "business_metric": "purchase",
                    "segment": {},
                    "estimate": 310.0,
                    "ci": [120.0, 500.0],
                    "pvalue": 0.01,
                    "n": 7,
                    "method": "ols",
                }
            ],
            "lift": [
                {
                    "metric": "purchase",
                    "treatment": {"ml.model.version": "2"},
                    "control": {"ml.model.version": "1"},
                    "segment": {},
                    "estimate": 0.062,
                    "ci": [0.021, 0.104],
                    "pvalue": 0.003,
                    "method": "welch",
                    "n": 5400,
                }
            ],
            "roi": [
                {
                    "ml.model.name": "recommender",
                    "ml.model.version": "2",
                    "incremental_value": 6210.5,
                    "cost": 1500.0,
                    "net_benefit": 4710.5,
                    "roi_pct": 314.0,
                }
            ],
            "kpi": [
                {"metric": "purchase", "pre": 101.0, "post": 150.0, "change_pct": 48.5},
                {"metric": "ctr", "pre": 0.11, "post": 0.16, "change_pct": 45.4},
            ],
            "alerts": [
                {
                    "rule": "correlation_break",
                    "severity": "critical",
                    "at": "2026-11-03T12:00:00Z",
                    "message": "ctr→purchase correlation fell below 0.2 for ios",
                    "attributes": {"platform": "ios"},
                }
            ],
            "incidents": [
                {
                    "anomaly": {
                        "metric": "ctr",
                        "segment": {},
                        "start": "2026-11-04T00:00:00Z",
                        "end": "2026-11-04T12:00:00Z",
                        "magnitude": -3.4,
                    },
                    "linked": [
                        {
                            "pipeline.name": "features_daily",
                            "dataset.name": "user_features",
                            "at": "2026-11-03T22:00:00Z",
                            "score": 0.9,
                        }
                    ],
                }
            ],
            "data_quality": [
                {"check": "null_scores", "table": "impact_predictions", "value": 0.01, "ok": True}
            ],
            "freshness": [{"source": "business.purchase", "lag_s": 120, "ok": True}],
            "evaluation": [
                {
                    "feature": "recs",
                    "offline": {"metric": "ndcg", "value": 0.41, "threshold": 0.3, "passes": True},
                    "online": {"metric": "ctr", "value": 0.137, "threshold": 0.2, "passes": False},
                    "decision": "iterate_ux",
                    "action": "iterate on UX",
                }
            ],
            "slos": [
                {
                    "name": "rec-latency",
                    "kind": "model",
                    "sli": "latency",
                    "ml.model.name": "recommender",
                    "objective": 0.99,
                    "estimate": 0.995,
                    "budget_remaining": 0.9,
                    "n": 1000,
                    "windows": [{"window": "1h/5m", "burn_long": 0.5, "firing": False}],
                    "alerts": [],
                }
            ],
            "rollout_impact": {
                "rollouts": [],
                "effects": [
                    {
                        "rollout": "recommender v2",
                        "model": "recommender",
                        "version": "v2",
                        "metric": "purchase",
                        "segment": {"platform": "mobile"},
                        "rollout_at": "2026-11-05T00:00:00Z",
                        "method": "synthetic_control",
                        "estimate": 0.05,
                        "ci": [0.01, 0.09],
                        "pvalue": 0.2,
                        "mde_relative": 0.03,
                        "verdict_kind": "effect",
                        "preferred": True,
                    }
                ],
            },
            "warnings": ["segment platform=web: too few buckets (2) for a correlation"],
        }
    )
