"""Replay a simulated :class:`~otel_impact.demo.world.World` through the instrumentation API.

Every prediction, outcome, purchase, subscription and pipeline run of the world becomes a call
to the public instrumentation API (``track_prediction``, ``record_outcome``,
``record_business_event``, ``record_pipeline_event``) with an explicit simulated timestamp, on
the providers of the service that would emit it. Days are replayed in order; the services are
flushed whenever ``FLUSH_EVERY`` items are pending (far below the SDK queue size), so the OTLP
exporters never drop data. A world can be replayed by several processes at once, each taking a
shard of the users (:mod:`otel_impact.demo.parallel`).

The returned :class:`EmitCounts` is what the store must hold afterwards (the reconciliation
check of the demo): spans of the sampling replica that were sampled out are counted apart.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from otel_impact import semconv
from otel_impact.demo import api
from otel_impact.demo.services import Services
from otel_impact.demo.world import DAY_NS, MARKETS, PLATFORMS, TENURES, VERSIONS, World
from otel_impact.errors import ReceiverError

CURRENCY = "EUR"
SUBSCRIPTION_PRICE = 9.99
EXPERIMENT = "ranker-v2-rollout"  # feature flag of the A/B rollout
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


def _shard_days(
    world: World, ts_ns: np.ndarray, user: np.ndarray, shard: tuple[int, int]
) -> list[np.ndarray]:
    """Per simulated day, the indexes of the rows whose user belongs to ``shard`` = (k, n)."""
    k, n = shard
    return [np.arange(sl.start, sl.stop)[user[sl] % n == k] for sl in world.day_slices(ts_ns)]


def emit_world(
    world: World,
    services: Services,
    *,
    shard: tuple[int, int] = (0, 1),
    progress: Callable[[str], None] | None = None,
) -> EmitCounts:
    """Emit the world day by day through the instrumentation API; return the counts.

    ``shard = (k, n)`` emits only the users with ``index % n == k`` (and the pipeline events
    only in shard 0), so ``n`` processes can replay one world together.
    """
    k, n = shard
    if not 0 <= k < n:
        raise ValueError(f"shard must be (k, n) with 0 <= k < n, got {shard!r}")
    t0 = time.perf_counter()
    truth = world.params.truth
    users, preds, buys, subs = world.users, world.predictions, world.purchases, world.subscriptions
    counts = EmitCounts()
    segments = {
        (pl, te, mk): {"platform": PLATFORMS[pl], "tenure": TENURES[te], "market": MARKETS[mk]}
        for pl in range(len(PLATFORMS))
        for te in range(len(TENURES))
        for mk in range(len(MARKETS))
    }
    pred_days = _shard_days(world, preds.ts_ns, preds.user, shard)
    buy_days = _shard_days(world, buys.ts_ns, buys.user, shard)
    sub_days = _shard_days(world, subs.ts_ns, subs.user, shard)
    runs_by_day: dict[int, list[int]] = {}
    if k == 0:
        for idx, run in enumerate(world.pipeline_runs):
            runs_by_day.setdefault((run.ts_ns - world.params.start_ns) // DAY_NS, []).append(idx)

    full, sampling = services.recommender, services.recommender_sampled
    # from the rollout on, every prediction carries the experiment arm it was served in
    arms = [
        {semconv.FEATURE_FLAG_KEY: EXPERIMENT, semconv.FEATURE_FLAG_VARIANT: version} for version in VERSIONS
    ]
    pending = 0
    for day in range(world.params.days):
        degraded = day >= truth.degradation_day
        for i in pred_days[day].tolist():
            u = int(preds.user[i])
            replica = sampling if users.sampled[u] else full
            pl, te = int(users.platform[u]), int(users.tenure[u])
            score = float(preds.score[i])
            prediction_id, recorded = api.predict(
                replica,
                truth.model,
                VERSIONS[int(preds.version[i])],
                user_id=users.ids[u],
                session_id=f"s{u}-{day}",
                request_id=f"r{i}",
                segment=segments[(pl, te, int(users.market[u]))],
                features=_features(te, pl, u % 50, degraded),
                timestamp=int(preds.ts_ns[i]),
                duration_s=float(preds.latency_s[i]),
                score=score,
                label="click" if score >= 0.5 else "skip",
                attributes=arms[int(preds.version[i])] if day >= truth.rollout_day else None,
            )
            counts.predictions_recorded += int(recorded)
            counts.predictions_sampling_replica += int(replica is sampling)
            api.outcome(
                replica, prediction_id, label=str(int(preds.click[i])), timestamp=int(preds.outcome_ts_ns[i])
            )
        n_day = len(pred_days[day])
        counts.predictions += n_day
        counts.outcomes += n_day
        for i in buy_days[day].tolist():
            value = float(buys.value[i])
            api.business(
                services.checkout,
                "purchase",
                value=value,
                currency=CURRENCY,
                user_id=users.ids[int(buys.user[i])],
                timestamp=int(buys.ts_ns[i]),
            )
            counts.purchase_value += value
        counts.purchases += len(buy_days[day])
        for i in sub_days[day].tolist():
            api.business(
                services.subscriptions,
                "subscription",
                value=SUBSCRIPTION_PRICE,
                currency=CURRENCY,
                user_id=users.ids[int(subs.user[i])],
                timestamp=int(subs.ts_ns[i]),
            )
        counts.subscriptions += len(sub_days[day])
        for idx in runs_by_day.get(day, []):
            api.pipeline(services.pipeline, world.pipeline_runs[idx])
            counts.pipeline_events += 1
        pending += 2 * n_day + len(buy_days[day]) + len(sub_days[day])
        if pending >= FLUSH_EVERY or day == world.params.days - 1:
            # bounded queues: wait for the exporters before the SDK queues could overflow
            if not services.flush():
                raise ReceiverError(
                    f"the simulated services could not export day {day} to the receiver within 10 minutes "
                    "(is the machine overloaded? try fewer --users)"
                )
            pending = 0
        counts.per_day.append(n_day)
        if progress is not None:
            progress(
                f"day {day + 1:>2}/{world.params.days}: {n_day:,} predictions, "
                f"{len(buy_days[day]):,} purchases, {len(sub_days[day]):,} subscriptions "
                f"({time.perf_counter() - t0:.1f} s)"
            )
    if not services.flush_metrics():
        raise ReceiverError("the simulated services could not export their metrics to the receiver")
    counts.seconds = time.perf_counter() - t0
    return counts


def merge_counts(parts: list[EmitCounts]) -> EmitCounts:
    """Sum the counts of several shards (per-day counts added day by day)."""
    total = EmitCounts()
    for part in parts:
        for name in (
            "predictions",
            "predictions_recorded",
            "predictions_sampling_replica",
            "outcomes",
            "purchases",
            "subscriptions",
            "pipeline_events",
        ):
            setattr(total, name, getattr(total, name) + getattr(part, name))
        total.purchase_value += part.purchase_value
        total.seconds = max(total.seconds, part.seconds)
        if len(total.per_day) < len(part.per_day):
            total.per_day += [0] * (len(part.per_day) - len(total.per_day))
        for i, v in enumerate(part.per_day):
            total.per_day[i] += v
    return total
