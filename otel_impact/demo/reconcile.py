"""Check that everything the simulated services emitted arrived in the store.

Spans: the stored prediction spans must equal the spans the SDK sampled in (exactly), and the
sum of their adjusted counts must match the predictions served within sampling noise (the
sampling replica keeps each trace with probability ``ratio`` and weights it ``1/ratio``, so the
difference has standard deviation ``sqrt(n (1 - r) / r)`` for ``n`` predictions it served).
Events: every outcome, purchase, subscription and pipeline event, exactly, and the purchase
value total.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

from otel_impact import semconv
from otel_impact.demo.emit import EmitCounts
from otel_impact.errors import StoreError
from otel_impact.store.client import StoreClient

_SQL = resources.files("otel_impact.demo")


def _sql(name: str) -> str:
    return (_SQL / f"{name}.sql").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Check:
    """One reconciled quantity."""

    what: str
    emitted: float
    stored: float
    tolerance: float = 0.0

    @property
    def ok(self) -> bool:
        return abs(self.emitted - self.stored) <= self.tolerance + 1e-9 * max(abs(self.emitted), 1.0)

    def line(self) -> str:
        tol = f" (± {self.tolerance:,.0f} sampling noise allowed)" if self.tolerance else ""
        mark = "ok" if self.ok else "MISMATCH"
        return f"{self.what:<34} emitted {self.emitted:>14,.2f}  stored {self.stored:>14,.2f}  {mark}{tol}"


@dataclass(frozen=True)
class Reconciliation:
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def lines(self) -> list[str]:
        return [c.line() for c in self.checks]

    def to_json(self) -> list[dict[str, Any]]:
        return [
            {"what": c.what, "emitted": c.emitted, "stored": c.stored, "tolerance": c.tolerance, "ok": c.ok}
            for c in self.checks
        ]


def reconcile(
    client: StoreClient, counts: EmitCounts, *, model: str, start: datetime, end: datetime, ratio: float
) -> Reconciliation:
    """Compare ``counts`` with what the store holds for ``[start, end)``."""
    params = {"model": model, "start": start, "end": end}
    try:
        pred = client.query(_sql("reconcile_predictions"), parameters=params).result_rows[0]
        events = client.query(_sql("reconcile_events"), parameters={"start": start, "end": end}).result_rows
    except Exception as exc:
        raise StoreError(f"cannot read back the demo's telemetry: {exc}") from exc
    spans, weighted = int(pred[0]), float(pred[1] or 0.0)
    by_name = {str(name): (int(n), float(v)) for name, n, v in events}
    n_sampling = counts.predictions_sampling_replica
    noise = 4.0 * math.sqrt(n_sampling * (1.0 - ratio) / ratio) + 1.0
    purchase = by_name.get(semconv.business_event("purchase"), (0, 0.0))
    pipeline = (
        by_name.get(semconv.EVENT_PIPELINE_RUN, (0, 0.0))[0]
        + by_name.get(semconv.EVENT_PIPELINE_INCIDENT, (0, 0.0))[0]
    )
    checks = (
        Check("prediction spans (sampled in)", counts.predictions_recorded, spans),
        Check("predictions (sum of adjusted_count)", counts.predictions, weighted, noise),
        Check("ml.outcome events", counts.outcomes, by_name.get(semconv.EVENT_ML_OUTCOME, (0, 0.0))[0]),
        Check("business.purchase events", counts.purchases, purchase[0]),
        Check(
            "business.purchase value",
            counts.purchase_value,
            purchase[1],
            1e-6 * max(counts.purchase_value, 1.0),
        ),
        Check(
            "business.subscription events",
            counts.subscriptions,
            by_name.get(semconv.business_event("subscription"), (0, 0.0))[0],
        ),
        Check("pipeline events", counts.pipeline_events, pipeline),
    )
    return Reconciliation(checks)
