"""Deployments stage: the model deployment audit trail from prediction spans.

For each model (``models``, default all) in the window: each version's first/last prediction
and adjusted volume, the traffic share per ``deployments.bucket`` and the rollout phases (see
:mod:`otel_impact.analyze.deployments`), plus explicit ``ml.deployment`` events. The newest
version's rollout (``rollout_start`` / ``majority`` / ``complete``) is located on the phases;
an ``ml.deployment`` event of that version, when present, gives the exact rollout start.

When ``kpi.rollout`` is unset, the latest rollout found (``deployments.kpi_boundary``) becomes
the KPI table's pre/post boundary: the stage gives it as ``cache.kpi_rollout``, which the ``lift``
and ``rollout_impact`` stages read through :func:`kpi_rollout` (the config is never rewritten).
Writes ``result["deployments"]``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from otel_impact import semconv
from otel_impact.analyze.deployments import newest_version, rollout_index, rollout_phases, traffic_shares
from otel_impact.stages.graph import Stage
from otel_impact.store.client import StoreClient, dict_rows, query_file

if TYPE_CHECKING:
    from otel_impact.context import JobContext

CACHE_KEY = "deployments"
ROLLOUT_KEY = "kpi_rollout"  # the rollout time derived from the trail, when kpi.rollout is unset


def kpi_rollout(ctx: JobContext) -> datetime | None:
    """The KPI table's pre/post boundary: ``kpi.rollout`` when configured, else the newest
    rollout this stage found (``cache.kpi_rollout``), else None."""
    configured: datetime | None = ctx.config.kpi.rollout
    return configured if configured is not None else ctx.cache.get(ROLLOUT_KEY)


def _rows(client: StoreClient, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return dict_rows(query_file(client, name, params, doing="deployments query"))


def _aware(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _ns(ts: datetime) -> int:
    return int(ts.timestamp()) * 1_000_000_000 + ts.microsecond * 1000


def _model_trail(
    ctx: JobContext, model: str, rows: list[dict[str, Any]], events: list[dict[str, Any]]
) -> dict[str, Any]:
    cfg = ctx.config.deployments
    start, bucket = ctx.window.start, cfg.bucket
    n_buckets = max(1, int(np.ceil(ctx.window.seconds / bucket)))
    versions = sorted({str(r["version"]) for r in rows})
    col = {v: i for i, v in enumerate(versions)}
    counts = np.zeros((n_buckets, len(versions)))
    first: dict[str, datetime] = {}
    last: dict[str, datetime] = {}
    for r in rows:
        v, b = str(r["version"]), int(r["b"])
        if 0 <= b < n_buckets:
            counts[b, col[v]] += float(r["n"])
        f, la = _aware(r["first_ts"]), _aware(r["last_ts"])
        first[v] = min(first.get(v, f), f)
        last[v] = max(last.get(v, la), la)
    shares = traffic_shares(counts)
    phases = rollout_phases(shares, counts, tolerance=cfg.phase_tolerance, min_buckets=cfg.min_phase_buckets)

    def t(b: int) -> datetime:
        return start + timedelta(seconds=bucket * b)

    out: dict[str, Any] = {
        "model": model,
        "versions": [
            {
                "version": v,
                "first_seen": first[v],
                "last_seen": last[v],
                "predictions": float(counts[:, col[v]].sum()),
            }
            for v in sorted(versions, key=lambda v: first[v])
        ],
        "traffic": {
            "buckets": [t(b) for b in range(n_buckets)],
            "totals": counts.sum(axis=1).tolist(),
            "shares": {v: shares[:, col[v]].tolist() for v in versions},
        },
        "phases": [
            {
                "start": t(p.start),
                "end": min(t(p.end), ctx.window.end),
                "shares": {v: p.shares[col[v]] for v in versions},
                "predictions": p.n,
            }
            for p in phases
        ],
        "rollout": None,
    }
    newest = newest_version([first[v].timestamp() for v in versions])
    if newest is not None:
        v = versions[newest]
        marks = {
            kind: rollout_index(phases, newest, boundary=kind, tolerance=cfg.phase_tolerance)
            for kind in ("rollout_start", "majority", "complete")
        }
        rollout: dict[str, Any] = {"version": v, "source": "phases"}
        rollout.update({kind: (t(i) if i is not None else None) for kind, i in marks.items()})
        announced = [e for e in events if e["model"] == model and e["version"] == v]
        if announced:
            rollout["rollout_start"] = _aware(announced[0]["ts"])
            rollout["source"] = "event"
        out["rollout"] = rollout
    return out


def run(ctx: JobContext) -> None:
    """Deployment trail per model; default ``kpi.rollout`` from the newest rollout."""
    cfg = ctx.config.deployments
    if not cfg.enabled:
        return
    start, end = ctx.window.start, ctx.window.end
    params = {
        "start": start,
        "end": end,
        "start_ns": _ns(start),
        "bucket_ns": int(cfg.bucket * 1e9),
        "models": list(ctx.config.models),
    }
    rows = _rows(ctx.client, "deployments_traffic.sql", params)
    event_params = {
        "start": start,
        "end": end,
        "event": semconv.EVENT_ML_DEPLOYMENT,
        "k_model": semconv.ML_MODEL_NAME,
        "k_version": semconv.ML_MODEL_VERSION,
        "k_share": semconv.ML_DEPLOYMENT_TRAFFIC,
    }
    events = _rows(ctx.client, "deployments_events.sql", event_params)
    by_model: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_model.setdefault(str(r["model"]), []).append(r)
    models = [_model_trail(ctx, m, rs, events) for m, rs in sorted(by_model.items())]
    section: dict[str, Any] = {
        "bucket_s": cfg.bucket,
        "models": models,
        "events": [
            {
                "ts": _aware(e["ts"]),
                "service": e["service"],
                semconv.ML_MODEL_NAME: e["model"],
                semconv.ML_MODEL_VERSION: e["version"],
                "traffic_share": e["traffic_share"],
            }
            for e in events
        ],
        "kpi_rollout": None,
    }
    candidates = [
        (m["rollout"][cfg.kpi_boundary], m["model"], m["rollout"]["version"])
        for m in models
        if m["rollout"] and m["rollout"].get(cfg.kpi_boundary) is not None
    ]
    if candidates:
        at, model, version = max(candidates)
        section["kpi_rollout"] = {"at": at, "model": model, "version": version, "boundary": cfg.kpi_boundary}
        if ctx.config.kpi.rollout is None:
            ctx.cache[ROLLOUT_KEY] = at
            section["kpi_rollout"]["applied"] = True
        else:
            section["kpi_rollout"]["applied"] = False
    ctx.cache[CACHE_KEY] = section
    ctx.result["deployments"] = section


DEPLOYMENTS = Stage(
    "deployments", run, gives=frozenset({"cache.deployments", "cache.kpi_rollout", "result.deployments"})
)

__all__ = ["CACHE_KEY", "DEPLOYMENTS", "ROLLOUT_KEY", "kpi_rollout", "run"]
