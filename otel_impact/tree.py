"""The metric tree: north star → product metrics → model / operational / cost metrics.

Configured in ``tree`` (see :mod:`otel_impact.config.job`). For each node :func:`measure_tree`
reads its source from the store, bucketed by ``tree.bucket`` over ``tree.lookback``, and reports
its status (``Live`` when the source has rows within ``tree.live_within``, else ``Needs data``),
its latest value, and the Pearson correlation of its bucketed series with its parent's (buckets
both have). ``render_tree`` draws it for the terminal.

>>> pearson_aligned({1: 1.0, 2: 2.0, 3: 3.5}, {1: 2.0, 2: 4.0, 3: 7.0}).estimate
1.0
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from otel_impact.analyze.correlation import Correlation, correlate
from otel_impact.config.job import TreeNode, TreeSection
from otel_impact.config.sqlsource import READ_ONLY_SETTINGS, source_sql
from otel_impact.store.client import StoreClient, query_file, rows

LIVE, NEEDS_DATA, NO_SOURCE = "Live", "Needs data", "No source"


@dataclass
class NodeStatus:
    """One measured node of the tree."""

    name: str
    kind: str
    owner: str | None
    dashboard: str | None
    source: str
    status: str
    latest: float | None = None
    latest_at: datetime | None = None
    series: dict[datetime, float] = field(default_factory=dict, repr=False)
    parent_correlation: Correlation | None = None
    children: list[NodeStatus] = field(default_factory=list)

    def walk(self) -> Iterator[tuple[int, NodeStatus]]:
        stack: list[tuple[int, NodeStatus]] = [(0, self)]
        while stack:
            depth, node = stack.pop()
            yield depth, node
            stack.extend((depth + 1, c) for c in reversed(node.children))

    def to_json(self) -> dict[str, Any]:
        corr = self.parent_correlation
        return {
            "name": self.name,
            "kind": self.kind,
            "owner": self.owner,
            "dashboard": self.dashboard,
            "source": self.source,
            "status": self.status,
            "latest": self.latest,
            "latest_at": self.latest_at.strftime("%Y-%m-%dT%H:%M:%SZ") if self.latest_at else None,
            "parent_correlation": None
            if corr is None
            else {
                "estimate": None if math.isnan(corr.estimate) else corr.estimate,
                "pvalue": None if math.isnan(corr.pvalue) else corr.pvalue,
                "n": corr.n,
                "method": corr.method,
            },
            "children": [c.to_json() for c in self.children],
        }


def pearson_aligned(parent: Mapping[Any, float], child: Mapping[Any, float]) -> Correlation:
    """Pearson r over the buckets both series have (finite values only), from
    :func:`otel_impact.analyze.correlation.correlate` (t-test p-value on the shared buckets); NaN
    fields and a :class:`~otel_impact.analyze.results.DegenerateDataWarning` when fewer than 3
    shared buckets or a constant series."""
    keys = sorted(
        k for k in parent.keys() & child.keys() if math.isfinite(parent[k]) and math.isfinite(child[k])
    )
    return correlate([parent[k] for k in keys], [child[k] for k in keys], "pearson", neff_method="none")


def _source_label(node: TreeNode) -> str:
    src = node.source
    if src is None:
        return "-"
    if src.sql is not None:
        return f"sql ({src.agg})"
    return f"{src.kind} {getattr(src, src.kind)} ({src.agg})"


def read_source(
    client: StoreClient, node: TreeNode, since: datetime, until: datetime, bucket: float
) -> list[tuple[Any, ...]]:
    """Bucketed rows (b, n, s, m, last_ts) of ``node``'s source; store failures name node and source."""
    src = node.source
    assert src is not None
    kind = src.kind
    params: dict[str, Any] = {"bucket": max(1, int(bucket)), "since": since, "until": until}
    settings: dict[str, Any] = {}
    splice: dict[str, str] = {}
    if kind == "sql":
        path = f"tree node {node.name!r} source.sql"
        splice["/*SOURCE_SQL*/"] = source_sql(str(src.sql), path)
        settings = dict(READ_ONLY_SETTINGS)
    else:
        params["name"] = getattr(src, kind)
    doing = f"tree node {node.name!r} ({_source_label(node)})"
    return rows(query_file(client, f"tree_{kind}.sql", params, doing=doing, settings=settings, splice=splice))


def _aware(ts: Any) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def measure_tree(
    client: StoreClient,
    section: TreeSection,
    now: datetime | None = None,
    plan_mark: Callable[[str, str], Any] | None = None,
) -> NodeStatus | None:
    """Measure every node of ``section.root`` (None when no tree is configured).

    ``plan_mark`` (see :func:`otel_impact.plan.tree.tree_marks`) adds what the tracking plan
    says about an event/model source; a source the plan marks unusable is ``Needs data``.
    """
    if section.root is None:
        return None
    now = now or datetime.now(UTC)
    since = now - timedelta(seconds=section.lookback)
    live_since = now - timedelta(seconds=section.live_within)

    def measure(node: TreeNode, parent: NodeStatus | None) -> NodeStatus:
        status = NodeStatus(node.name, node.kind, node.owner, node.dashboard, _source_label(node), NO_SOURCE)
        if node.source is not None:
            rows = read_source(client, node, since, now, section.bucket)
            col = {"count": 1, "sum": 2, "mean": 3}[node.source.agg]
            for row in rows:
                value = row[col]
                if value is not None and math.isfinite(float(value)):
                    status.series[_aware(row[0])] = float(value)
            last_seen = max((_aware(r[4]) for r in rows if r[1]), default=None)
            status.status = LIVE if last_seen is not None and last_seen >= live_since else NEEDS_DATA
            mark = (
                plan_mark(node.source.kind, str(getattr(node.source, node.source.kind)))
                if plan_mark
                else None
            )
            if mark is not None:
                status.status = f"{status.status if mark.usable else NEEDS_DATA} ({mark.note})"
            if status.series:
                status.latest_at = max(status.series)
                status.latest = status.series[status.latest_at]
        if parent is not None and parent.series and status.series:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                status.parent_correlation = pearson_aligned(parent.series, status.series)
        status.children = [measure(child, status) for child in node.children]
        return status

    return measure(section.root, None)


def _num(v: float | None) -> str:
    if v is None or math.isnan(v):
        return "–"
    return f"{v:,.4g}" if abs(v) < 1e4 else f"{v:,.0f}"


def render_tree(root: NodeStatus) -> list[str]:
    """Terminal lines: one per node, indented, with status, latest value and parent correlation."""
    lines: list[str] = []

    def draw(node: NodeStatus, prefix: str, last: bool, top: bool) -> None:
        branch = "" if top else ("└─ " if last else "├─ ")
        parts = [f"{prefix}{branch}{node.name} [{node.kind}]", node.status]
        if node.latest is not None and node.latest_at is not None:
            parts.append(f"latest {_num(node.latest)} @ {node.latest_at:%Y-%m-%d %H:%M}")
        corr = node.parent_correlation
        if corr is not None:
            parts.append(f"r={_num(corr.estimate)} p={_num(corr.pvalue)} n={corr.n} vs parent")
        if node.owner:
            parts.append(f"owner {node.owner}")
        if node.dashboard:
            parts.append(node.dashboard)
        lines.append("  ".join(parts))
        child_prefix = prefix if top else prefix + ("   " if last else "│  ")
        for i, child in enumerate(node.children):
            draw(child, child_prefix, i == len(node.children) - 1, False)

    draw(root, "", True, True)
    return lines
