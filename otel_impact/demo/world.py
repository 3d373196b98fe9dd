"""The simulated world behind ``otel-impact demo``: users, a recommender, purchases, pipelines.

Everything here is pure and seeded: :func:`simulate` turns a :class:`WorldParams` into a
:class:`World` of numpy arrays (one row per prediction, outcome, purchase, subscription) plus the
:class:`~otel_impact.demo.truth.PlantedTruth` it was generated from. The emitter
(:mod:`otel_impact.demo.services`) then replays the world through the real instrumentation API
and OTLP, so the analyzer sees telemetry whose ground truth is known.

What is planted (see ``PlantedTruth`` for the numbers):

* daily model quality swings (a shuffled four-level design, uncorrelated from day to day), so
  the daily click-through rate — and the recommender's calibrated mean score — varies by tens of
  percent from day to day;
* each day's purchase propensity follows the CTR of ``lag_days`` earlier, with a sensitivity
  that depends on the user's tenure (power ≫ new ≫ casual) — until ``breakdown_day``, when an
  external shock takes over: purchases first move opposite to CTR, then stop following it;
* from ``rollout_day`` a random half of the users is served model ``v2`` (the emitter marks each
  prediction with its experiment arm), which lifts purchase propensity strongly for power users,
  moderately for new users and barely for casual users;
* the feature pipeline's schema-change run on ``schema_change_day`` makes the scores far less
  informative of clicks from the next day on (AUC drops), while an unrelated pipeline fails on
  the same day;
* half of the users are served by a recommender replica that samples traces at 50 %;
* a checkout widget launched market by market (``widget_markets`` on ``widget_days``, no A/B arm)
  lifts the purchase propensity of every user in a market from its launch day on.

>>> w = simulate(WorldParams(users=200, days=10, seed=1))
>>> int(w.predictions.n) == len(w.predictions.user)
True
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from otel_impact.demo.truth import PlantedTruth

DAY_NS = 86_400 * 10**9
HOUR_NS = 3_600 * 10**9
PLATFORMS = ("mobile", "desktop")
TENURES = ("power", "casual", "new")
VERSIONS = ("v1", "v2")
MARKETS = ("de", "fr", "es", "it", "nl", "pl")

# per-tenure behaviour: daily activity probability, extra requests per active day (Poisson),
# base purchase probability per active day, mean purchase value
_ACTIVITY = np.array([0.40, 0.12, 0.10])
_EXTRA_REQUESTS = np.array([0.15, 0.0, 0.0])
_BASE_PURCHASE = np.array([0.22, 0.25, 0.20])
_MEAN_VALUE = np.array([60.0, 40.0, 35.0])
_SUBSCRIBE = np.array([0.30, 0.08, 0.15])
_PLATFORM_SHARE = np.array([0.6, 0.4])
_TENURE_SHARE = np.array([0.25, 0.50, 0.25])
_PLATFORM_SENSITIVITY = np.array([1.0, 0.8])


@dataclass(frozen=True)
class WorldParams:
    """Size, seed and start of the simulation (the planted effects live in ``PlantedTruth``)."""

    users: int = 20_000
    days: int = 30
    seed: int = 7
    start: datetime = datetime(2026, 10, 1, tzinfo=UTC)
    truth: PlantedTruth = field(default_factory=PlantedTruth)

    def __post_init__(self) -> None:
        if self.users < 10:
            raise ValueError(f"users must be at least 10, got {self.users}")
        if self.days < 7:
            raise ValueError(f"days must be at least 7, got {self.days}")
        if self.start.tzinfo is None:
            raise ValueError("start must be timezone-aware (UTC)")

    @property
    def start_ns(self) -> int:
        return int(self.start.timestamp()) * 10**9

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.days)


@dataclass(frozen=True)
class Users:
    """One entry per user; segment and assignment arrays hold indexes into the name tuples."""

    ids: tuple[str, ...]
    platform: np.ndarray  # index into PLATFORMS
    tenure: np.ndarray  # index into TENURES
    treatment: np.ndarray  # bool: in the v2 arm once the rollout starts
    sampled: np.ndarray  # bool: served by the replica that samples traces at 50 %
    market: np.ndarray  # index into MARKETS


@dataclass(frozen=True)
class Predictions:
    """One row per prediction (recommendation request), sorted by time."""

    ts_ns: np.ndarray
    user: np.ndarray
    day: np.ndarray
    version: np.ndarray  # index into VERSIONS
    score: np.ndarray
    click: np.ndarray  # ground-truth label 0/1
    outcome_ts_ns: np.ndarray  # when the ml.outcome event is recorded
    latency_s: np.ndarray

    @property
    def n(self) -> int:
        return int(self.ts_ns.size)


@dataclass(frozen=True)
class Purchases:
    ts_ns: np.ndarray
    user: np.ndarray
    value: np.ndarray

    @property
    def n(self) -> int:
        return int(self.ts_ns.size)


@dataclass(frozen=True)
class Subscriptions:
    ts_ns: np.ndarray
    user: np.ndarray

    @property
    def n(self) -> int:
        return int(self.ts_ns.size)


@dataclass(frozen=True)
class PipelineRun:
    """One ``pipeline.run`` / ``pipeline.incident`` event."""

    ts_ns: int
    event: str  # "run" or "incident"
    pipeline: str
    dataset: str
    status: str
    data_version: str
    change: str | None = None


@dataclass(frozen=True)
class World:
    params: WorldParams
    users: Users
    predictions: Predictions
    purchases: Purchases
    subscriptions: Subscriptions
    pipeline_runs: tuple[PipelineRun, ...]
    ctr: np.ndarray  # planted daily click-through rate
    propensity: np.ndarray  # planted daily purchase multiplier (before segment sensitivity)

    def day_slices(self, ts_ns: np.ndarray) -> list[slice]:
        """Index ranges of a time-sorted array, one per simulated day."""
        edges = self.params.start_ns + DAY_NS * np.arange(self.params.days + 1)
        cuts = np.searchsorted(ts_ns, edges)
        return [slice(int(a), int(b)) for a, b in itertools.pairwise(cuts)]


def _quality(rng: np.random.Generator, n: int) -> np.ndarray:
    """Standardised daily model-quality swings: every block of four days takes the four levels
    ±0.5, ±1.5 (scaled to unit variance) in a random order.

    Successive days are (nearly) uncorrelated, so a lag is identifiable, and every few-day window
    varies a lot, so a rolling correlation over a short window is informative.
    """
    levels = np.array([-1.5, -0.5, 0.5, 1.5]) / np.sqrt(1.25)
    return np.concatenate([rng.permutation(levels) for _ in range(n // 4 + 1)])[:n]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _daily_series(rng: np.random.Generator, p: WorldParams) -> tuple[np.ndarray, np.ndarray]:
    """Planted daily CTR and the log purchase driver (relative CTR ``lag_days`` earlier).

    From ``breakdown_day`` an external shock takes over: for ``flip_days`` days purchases move
    opposite to CTR, then they follow a course of their own (an independent series).
    """
    t = p.truth
    quality = _quality(rng, p.days + t.lag_days)
    ctr_all = t.base_ctr * np.exp(t.ctr_spread * quality)
    ctr = ctr_all[t.lag_days :]
    rel = np.log(ctr_all[: p.days] / t.base_ctr)  # day d: relative CTR of day d - lag
    shock = t.ctr_spread * _quality(rng, p.days) + np.log(t.shock_level)
    days = np.arange(p.days)
    after = np.where(days < t.breakdown_day + t.flip_days, -rel, shock)
    return ctr, np.where(days < t.breakdown_day, rel, after)


def simulate(params: WorldParams) -> World:
    """Generate the whole simulated world for ``params`` (deterministic for a given seed)."""
    p, t = params, params.truth
    rng = np.random.default_rng(p.seed)
    n_users = p.users
    ids = tuple(f"u{i:06d}" for i in range(n_users))
    platform = rng.choice(2, size=n_users, p=_PLATFORM_SHARE)
    tenure = rng.choice(3, size=n_users, p=_TENURE_SHARE)
    treatment = rng.random(n_users) < 0.5
    sampled = rng.random(n_users) < 0.5
    ctr, driver = _daily_series(rng, p)
    # markets from a generator of their own, so the rest of the world is drawn exactly as before
    market = np.random.default_rng([p.seed, 1]).integers(0, len(MARKETS), size=n_users)
    launch = np.full(len(MARKETS), p.days + 1)
    for name, day in zip(t.widget_markets, t.widget_days, strict=True):
        launch[MARKETS.index(name)] = day

    # --- predictions: active user-days × requests ------------------------------------------
    active = rng.random((p.days, n_users)) < _ACTIVITY[tenure][None, :]
    day_idx, user_idx = np.nonzero(active)
    requests = 1 + rng.poisson(_EXTRA_REQUESTS[tenure[user_idx]])
    pred_user = np.repeat(user_idx, requests)
    pred_day = np.repeat(day_idx, requests)
    n_pred = pred_user.size
    seconds = rng.uniform(6 * 3600, 23.5 * 3600, size=n_pred)
    pred_ts = p.start_ns + pred_day.astype(np.int64) * DAY_NS + (seconds * 1e9).astype(np.int64)
    order = np.argsort(pred_ts, kind="stable")
    pred_ts, pred_user, pred_day = pred_ts[order], pred_user[order], pred_day[order]
    version = ((pred_day >= t.rollout_day) & treatment[pred_user]).astype(np.int8)

    relevance = rng.standard_normal(n_pred)
    logit_ctr = np.log(ctr / (1 - ctr))[pred_day]
    click_p = _sigmoid(logit_ctr + t.relevance_weight * relevance)
    click = (rng.random(n_pred) < click_p).astype(np.int8)
    # the score sees the relevance through noise; mixing keeps its spread (and so the mean score,
    # the model's predicted CTR) unchanged while the schema change makes it far less informative
    rho = np.where(pred_day >= t.degradation_day, t.informativeness_after, t.informativeness_before)
    seen = rho * relevance + np.sqrt(1.0 - rho * rho) * rng.standard_normal(n_pred)
    score = _sigmoid(logit_ctr + t.relevance_weight * seen)
    outcome_ts = pred_ts + (rng.uniform(1, 600, size=n_pred) * 1e9).astype(np.int64)
    latency = rng.gamma(4.0, 0.006, size=n_pred)

    # --- purchases: per active user-day ---------------------------------------------------------
    a_ten = tenure[user_idx]
    a_version = (day_idx >= t.rollout_day) & treatment[user_idx]
    sens = np.array(t.sensitivity)[a_ten] * _PLATFORM_SENSITIVITY[platform[user_idx]]
    lift = np.where(a_version, np.array(t.lift)[a_ten], 0.0)
    widget = np.where(day_idx >= launch[market[user_idx]], t.widget_lift, 0.0)
    prob = _BASE_PURCHASE[a_ten] * np.exp(sens * driver[day_idx]) * (1.0 + lift) * (1.0 + widget)
    buys = rng.random(prob.size) < np.clip(prob, 0.0, 0.95)
    b_user, b_day = user_idx[buys], day_idx[buys]
    b_sec = rng.uniform(7 * 3600, 23.9 * 3600, size=b_user.size)
    b_ts = p.start_ns + b_day.astype(np.int64) * DAY_NS + (b_sec * 1e9).astype(np.int64)
    value = np.round(rng.gamma(4.0, _MEAN_VALUE[tenure[b_user]] / 4.0), 2)
    order = np.argsort(b_ts, kind="stable")
    purchases = Purchases(ts_ns=b_ts[order], user=b_user[order], value=value[order])

    # --- subscriptions: some buyers subscribe two to three weeks after their first purchase ---------
    first_buy = np.full(n_users, -1, dtype=np.int64)
    seen_users, first_idx = np.unique(purchases.user, return_index=True)
    first_buy[seen_users] = purchases.ts_ns[first_idx]
    has_first = first_buy >= 0
    subscribes = has_first & (rng.random(n_users) < _SUBSCRIBE[tenure])
    delay = (rng.uniform(14, 21, size=n_users) * DAY_NS).astype(np.int64)
    sub_ts = first_buy + delay
    in_range = subscribes & (sub_ts < p.start_ns + p.days * DAY_NS)
    s_user = np.nonzero(in_range)[0]
    s_ts = sub_ts[s_user]
    order = np.argsort(s_ts, kind="stable")
    subscriptions = Subscriptions(ts_ns=s_ts[order], user=s_user[order])

    return World(
        params=p,
        users=Users(
            ids=ids, platform=platform, tenure=tenure, treatment=treatment, sampled=sampled, market=market
        ),
        predictions=Predictions(
            ts_ns=pred_ts,
            user=pred_user,
            day=pred_day,
            version=version,
            score=score,
            click=click,
            outcome_ts_ns=outcome_ts,
            latency_s=latency,
        ),
        purchases=purchases,
        subscriptions=subscriptions,
        pipeline_runs=_pipeline_runs(p),
        ctr=ctr,
        propensity=np.exp(driver),
    )


def _pipeline_runs(p: WorldParams) -> tuple[PipelineRun, ...]:
    """Daily runs of the feature pipeline and an unrelated CRM sync, with the planted events."""
    t = p.truth
    runs: list[PipelineRun] = []
    for day in range(p.days):
        date = (p.start + timedelta(days=day)).date().isoformat()
        base = p.start_ns + day * DAY_NS
        change = t.schema_change_kind if day == t.schema_change_day else None
        runs.append(
            PipelineRun(
                ts_ns=base + 2 * HOUR_NS,
                event="run",
                pipeline=t.pipeline,
                dataset=t.dataset,
                status="success",
                data_version=date,
                change=change,
            )
        )
        failed = day == t.unrelated_failure_day
        runs.append(
            PipelineRun(
                ts_ns=base + 9 * HOUR_NS,
                event="run",
                pipeline=t.unrelated_pipeline,
                dataset=t.unrelated_dataset,
                status="failed" if failed else "success",
                data_version=date,
            )
        )
        if failed:
            runs.append(
                PipelineRun(
                    ts_ns=base + 9 * HOUR_NS + 60 * 10**9,
                    event="incident",
                    pipeline=t.unrelated_pipeline,
                    dataset=t.unrelated_dataset,
                    status="failed",
                    data_version=date,
                )
            )
    return tuple(runs)
