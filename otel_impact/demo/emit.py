"""Replay a simulated :class:`~otel_impact.demo.world.World` through the instrumentation API.

Every prediction, outcome, purchase, subscription and pipeline run of the world becomes a call
to the public instrumentation API (``track_prediction``, ``record_outcome``,
``record_business_event``, ``record_pipeline_event``) with an explicit simulated timestamp, on
the providers of the service that would emit it. Days are replayed in order and every service
is flushed after each day, so the OTLP exporters never drop data and the progress callback can
report per-day counts.

The returned :class:`EmitCounts` is what the store must hold afterwards (the reconciliation
check of the demo): spans of the sampling replica that were sampled out are counted apart.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from otel_impact.demo import api
from otel_impact.demo.services import Services
from otel_impact.demo.world import DAY_NS, PLATFORMS, TENURES, VERSIONS, World
from otel_impact.errors import ReceiverError

CURRENCY = "EUR"
FLUSH_EVERY = 60_000  # items between explicit flushes; well below the SDK queue size


@dataclass
class EmitCounts:
    """What the simulated services emitted (and, for spans, what was sampled in)."""

    predictions: int = 0
    predictions_recorded: int = 0  # spans sampled in (the sampling replica drops the rest)
    predictions_sampling_replica: int = 0  # predictions served by the sampling replica
    outcomes: int = 0
    purchases: int = 0
    purchase_value: float = 0.0
    subscriptions: int = 0
    pipeline_events: int = 0
    seconds: float = 0.0
    per_day: list[int] = field(default_factory=list)

    @property
    def events(self) -> int:
        """Log events emitted (outcomes + business events + pipeline events)."""
        return self.outcomes + self.purchases + self.subscriptions + self.pipeline_events


def _features(tenure: int, platform: int, bucket: int, degraded: bool) -> list[object]:
    """A small feature vector; the schema change adds a column and empties the CTR feature."""
    if degraded:
        return [TENURES[tenure], PLATFORMS[platform], None, bucket, "schema:v2"]
    return [TENURES[tenure], PLATFORMS[platform], bucket / 50.0, bucket]


def emit_world(
    world: World,
    services: Services,
    *,
    progress: Callable[[str], None] | None = None,
) -> EmitCounts:
    """Emit the whole world day by day through the instrumentation API; return the counts."""
    t0 = time.perf_counter()
    truth = world.params.truth
    users, preds = world.users, world.predictions
    counts = EmitCounts()
    segments = {
        (pl, te): {"platform": PLATFORMS[pl], "tenure": TENURES[te]}
        for pl in range(len(PLATFORMS))
        for te in range(len(TENURES))
    }
    pred_days = world.day_slices(preds.ts_ns)
    buy_days = world.day_slices(world.purchases.ts_ns)
    sub_days = world.day_slices(world.subscriptions.ts_ns)
    runs_by_day: dict[int, list[int]] = {}
    for idx, run in enumerate(world.pipeline_runs):
        runs_by_day.setdefault((run.ts_ns - world.params.start_ns) // DAY_NS, []).append(idx)

    full, sampling = services.recommender, services.recommender_sampled
    pending = 0
    for day in range(world.params.days):
        n_day = 0
        sl = pred_days[day]
        degraded = day >= truth.degradation_day
        for i in range(sl.start, sl.stop):
            u = int(preds.user[i])
            replica = sampling if users.sampled[u] else full
            pl, te = int(users.platform[u]), int(users.tenure[u])
            ts = int(preds.ts_ns[i])
            score = float(preds.score[i])
            prediction_id, recorded = api.predict(
                replica,
                truth.model,
                VERSIONS[int(preds.version[i])],
                user_id=users.ids[u],
                session_id=f"s{u}-{day}",
                request_id=f"r{i}",
                segment=segments[(pl, te)],
                features=_features(te, pl, u % 50, degraded),
                timestamp=ts,
                duration_s=float(preds.latency_s[i]),
                score=score,
                label="click" if score >= 0.5 else "skip",
            )
            counts.predictions += 1
            counts.predictions_recorded += int(recorded)
            counts.predictions_sampling_replica += int(replica is sampling)
            api.outcome(
                replica, prediction_id, label=str(int(preds.click[i])), timestamp=int(preds.outcome_ts_ns[i])
            )
            counts.outcomes += 1
            n_day += 1
        bl = buy_days[day]
        for i in range(bl.start, bl.stop):
            value = float(world.purchases.value[i])
            api.business(
                services.checkout,
                "purchase",
                value=value,
                currency=CURRENCY,
                user_id=users.ids[int(world.purchases.user[i])],
                timestamp=int(world.purchases.ts_ns[i]),
            )
            counts.purchases += 1
            counts.purchase_value += value
        ul = sub_days[day]
        for i in range(ul.start, ul.stop):
            api.business(
                services.subscriptions,
                "subscription",
                value=9.99,
                currency=CURRENCY,
                user_id=users.ids[int(world.subscriptions.user[i])],
                timestamp=int(world.subscriptions.ts_ns[i]),
            )
            counts.subscriptions += 1
        for idx in runs_by_day.get(day, []):
            run = world.pipeline_runs[idx]
            api.pipeline(services.pipeline, run)
            counts.pipeline_events += 1
        pending += n_day * 2 + (bl.stop - bl.start) + (ul.stop - ul.start)
        if pending >= FLUSH_EVERY or day == world.params.days - 1:
            # bounded queues: wait for the exporters before the SDK queues could overflow
            if not services.flush():
                raise ReceiverError(
                    f"the simulated services could not export day {day} to the receiver in time"
                )
            pending = 0
        counts.per_day.append(n_day)
        if progress is not None:
            progress(
                f"day {day + 1:>2}/{world.params.days}: {n_day:,} predictions, "
                f"{bl.stop - bl.start:,} purchases, {ul.stop - ul.start:,} subscriptions "
                f"({time.perf_counter() - t0:.1f} s)"
            )
    if not services.flush_metrics():
        raise ReceiverError("the simulated services could not export their metrics to the receiver")
    counts.seconds = time.perf_counter() - t0
    return counts
