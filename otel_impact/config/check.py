"""Checks across config sections: what a single section cannot see on its own.

:func:`cross_problems` are errors on every load (a bucket so small that one run would allocate
millions of buckets). :func:`lint` is what ``otel-impact config check`` adds: things a run would
only warn about later — no business metrics, names that refer to nothing (``lift.metrics``,
``evaluation.features[].online.lift``, tree event sources, ``alerts.adaptive_metrics``) with a
"did you mean". Both return ``(dotted path, message)`` pairs so every problem is listed at once.

>>> from otel_impact.config import config_from_dict
>>> cfg = config_from_dict({"business_metrics": [{"name": "purchase", "source": {"event": "business.purchase"}}],
...                         "lift": {"metrics": ["purchse"]}})
>>> lint(cfg)
[('lift.metrics[0]', "unknown business metric 'purchse' (did you mean 'purchase'?)")]
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from otel_impact.config.base import check_bucket_count
from otel_impact.config.stats import MODEL_METRICS

if TYPE_CHECKING:
    from otel_impact.config.job import TreeNode
    from otel_impact.config.model import ImpactConfig

Problem = tuple[str, str]

# Series every run builds besides the configured model metrics (see otel_impact/stages/series.py):
# per model, and per business metric ``<name>`` plus ``<name><suffix>``.
BUILT_SERIES: tuple[str, ...] = (
    "volume",
    "mean_score",
    "error_rate",
    "latency_p50_ms",
    "latency_p95_ms",
    "labeled",
)
BUSINESS_SUFFIXES: tuple[str, ...] = ("", ".events", ".conversion_rate", ".value_per_user", ".active_users")


def series_names(cfg: ImpactConfig, *, model_only: bool = False) -> set[str]:
    """Names of the series a run of ``cfg`` can build (only per-model ones with ``model_only``)."""
    out = set(MODEL_METRICS) | set(BUILT_SERIES)
    out |= {c.name for c in cfg.series.custom if c.kind == "model" or not model_only}
    if not model_only:
        out |= {m.name + suffix for m in cfg.business_metrics for suffix in BUSINESS_SUFFIXES}
    return out


def _suggest(name: str, known: Iterable[str]) -> str:
    known = sorted(set(known))
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (known: {', '.join(known)})" if known else ""


def cross_problems(cfg: ImpactConfig) -> list[Problem]:
    """Errors that need two sections: bucket counts against the spans they divide; synthetic-control
    predictors naming a business metric that is not configured."""
    out: list[Problem] = []
    first = max(cfg.job.first_run, cfg.job.lookback)
    checks = [
        ("series.bucket", cfg.series.bucket, first, "job.first_run"),
        ("incidents.bucket", cfg.incidents.bucket, max(first, cfg.incidents.history), "incidents.history"),
        ("tree.bucket", cfg.tree.bucket, cfg.tree.lookback, "tree.lookback"),
        ("deployments.bucket", cfg.deployments.bucket, first, "job.first_run"),
    ]
    for path, bucket, span, what in checks:
        msg = check_bucket_count(span, bucket, what)
        if msg:
            out.append((path, msg))
    names = [m.name for m in cfg.business_metrics]
    for i, pred in enumerate(cfg.rollout_impact.predictors):
        if pred.metric not in names:
            path = f"rollout_impact.predictors[{i}].metric"
            out.append((path, f"unknown business metric {pred.metric!r}{_suggest(pred.metric, names)}"))
    return out


def _tree_nodes(node: TreeNode | None, path: str) -> Iterator[tuple[str, TreeNode]]:
    if node is None:
        return
    yield path, node
    for i, child in enumerate(node.children):
        yield from _tree_nodes(child, f"{path}.children[{i}]")


def lint(cfg: ImpactConfig) -> list[Problem]:
    """What ``config check`` reports beyond validation (see the module docstring)."""
    out: list[Problem] = []
    names = [m.name for m in cfg.business_metrics]
    if not names:
        out.append(
            (
                "business_metrics",
                "no business metrics: a run has nothing to attribute, correlate or lift "
                "(add one with a source event or sql)",
            )
        )
    for i, name in enumerate(cfg.lift.metrics):
        if name not in names:
            out.append((f"lift.metrics[{i}]", f"unknown business metric {name!r}{_suggest(name, names)}"))
    for i, feature in enumerate(cfg.evaluation.features):
        lift = feature.online.lift
        if lift is not None and lift not in names:
            path = f"evaluation.features[{i}].online.lift"
            out.append((path, f"unknown business metric {lift!r}{_suggest(lift, names)}"))
        series = feature.online.series
        if series is not None and series not in series_names(cfg):
            path = f"evaluation.features[{i}].online.series"
            out.append((path, f"no series is named {series!r}{_suggest(series, series_names(cfg))}"))
    events = {m.source.event for m in cfg.business_metrics if m.source.event}
    planned = set(cfg.tracking_plan.events)
    for path, node in _tree_nodes(cfg.tree.root, "tree.root"):
        event = node.source.event if node.source is not None else None
        if event and event.startswith("business.") and event not in events | planned:
            out.append(
                (
                    f"{path}.source.event",
                    f"{event!r} is not the event of any business metric{_suggest(event, events)}",
                )
            )
    model_series = series_names(cfg, model_only=True)
    for i, name in enumerate(cfg.alerts.adaptive_metrics):
        if name not in model_series:
            msg = f"no per-model series is named {name!r}{_suggest(name, model_series)}"
            out.append((f"alerts.adaptive_metrics[{i}]", msg))
    return out


__all__ = ["BUILT_SERIES", "BUSINESS_SUFFIXES", "Problem", "cross_problems", "lint", "series_names"]
