"""Null worlds for alert calibration: telemetry with no planted effect, written into the store.

A :class:`Family` describes the kind of data (metric noise iid or AR(1), daily or hourly
buckets, length, weekly seasonality, routine pipeline runs whose ``data.version`` changes every
day, sampled spans); :func:`load` writes one seeded world into a database that has the schema:
prediction spans (``otel_traces``, exporter layout) with ground-truth ``ml.outcome`` events,
``business.purchase`` events and ``pipeline.run`` events (``otel_logs``), exactly as the
instrumentation's OTLP export lands there. :func:`config` is the configuration a new user would
write for it (defaults everywhere except what names the data). Nothing changes at any time:
every alert raised on these worlds is a false alarm.

Latent per-bucket processes (iid or AR(1) with the family's ``phi``, unit variance) drive the
model quality (score signal), the traffic volume, the latency and the purchase rate, so
day-to-day spread is larger than sampling noise alone, as in production.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from otel_impact import semconv

START = datetime(2026, 9, 1, tzinfo=UTC)
LEAD_DAYS = 3  # telemetry starts this long before the analysed window (SLO lead-in, pipeline history)
PIPELINES = ("features_daily", "catalog_sync", "crm_export")


@dataclass(frozen=True)
class Family:
    name: str
    phi: float  # AR(1) coefficient of the latent metric processes (0 = iid)
    bucket_s: float
    days: int
    per_bucket: int  # predictions per bucket (mean)
    weekly: bool = False  # weekend traffic and purchases −35 %
    sampled: bool = False  # half of the traffic sampled at 50 % (adjusted count 2)
    pipelines: int = 1  # routine daily pipelines (daily data.version change)


FAMILIES: tuple[Family, ...] = (
    Family("iid-daily-30d", 0.0, 86400.0, 30, 400),
    Family("ar0.5-daily-60d", 0.5, 86400.0, 60, 400),
    Family("ar0.7-daily-90d", 0.7, 86400.0, 90, 300),
    Family("iid-hourly-30d", 0.0, 3600.0, 30, 40),
    Family("ar0.7-hourly-30d", 0.7, 3600.0, 30, 40),
    Family("weekly-ar0.5-daily-60d", 0.5, 86400.0, 60, 400, weekly=True),
    Family("pipelines-ar0.5-daily-60d", 0.5, 86400.0, 60, 400, pipelines=3),
    Family("sampled-ar0.5-daily-60d", 0.5, 86400.0, 60, 400, sampled=True),
)


def _latent(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    e = rng.normal(size=n)
    out = np.empty(n)
    out[0] = e[0]
    for t in range(1, n):
        out[t] = phi * out[t - 1] + math.sqrt(1 - phi * phi) * e[t]
    return out


def window(f: Family) -> tuple[datetime, datetime]:
    start = START + timedelta(days=LEAD_DAYS)
    return start, start + timedelta(days=f.days)


def _ts(seconds: np.ndarray) -> list[datetime]:
    # whole seconds: clickhouse-connect converts sub-second datetimes on a much slower path
    return [START + timedelta(seconds=int(s)) for s in seconds]


def load(client: Any, f: Family, seed: int) -> dict[str, int]:
    """Write one null world of family ``f`` (seeded) into ``client``'s database."""
    rng = np.random.default_rng(seed)
    total_s = (f.days + LEAD_DAYS) * 86400.0
    nb = int(total_s // f.bucket_s)
    quality, traffic, speed, demand = (_latent(rng, nb, f.phi) for _ in range(4))
    starts = np.arange(nb) * f.bucket_s
    weekend = ((starts // 86400 + START.weekday()) % 7 >= 5) if f.weekly else np.zeros(nb, dtype=bool)
    mean_n = f.per_bucket * np.exp(0.1 * traffic) * np.where(weekend, 0.65, 1.0)
    counts = rng.poisson(mean_n)
    n = int(counts.sum())
    b = np.repeat(np.arange(nb), counts)
    t = starts[b] + rng.uniform(0, f.bucket_s, n)
    y = rng.random(n) < 0.3
    signal = 1.2 + 0.12 * quality[b]
    score = 1 / (1 + np.exp(-(signal * (2 * y - 1) - 0.8 + rng.normal(0, 1.0, n))))
    ms = np.exp(np.log(40.0) + 0.08 * speed[b] + rng.normal(0, 0.35, n))
    users = rng.integers(0, 3000, n)
    version = np.where(rng.random(n) < 0.5, "v2", "v1")
    replica = rng.random(n) < 0.5 if f.sampled else np.zeros(n, dtype=bool)
    keep = ~replica | (rng.random(n) < 0.5)
    spans, logs = [], []
    times = _ts(t)
    for i in np.flatnonzero(keep):
        pid = f"p{seed}-{i}"
        attrs = {
            semconv.ML_MODEL_NAME: "ranker",
            semconv.ML_MODEL_VERSION: str(version[i]),
            semconv.ML_PREDICTION_ID: pid,
            semconv.ML_PREDICTION_SCORE: repr(round(float(score[i]), 5)),
            semconv.ML_FEATURES_HASH: "h" + str(int(rng.integers(0, 400))),
            semconv.USER_ID: "u" + str(int(users[i])),
            semconv.segment_attribute("platform"): "mobile" if users[i] % 5 < 3 else "web",
        }
        if replica[i]:
            attrs[semconv.SAMPLING_ADJUSTED_COUNT] = "2.0"
        spans.append([times[i], f"{seed:08x}{i:024x}", f"{i:016x}", "predict ranker", "recommender", attrs,
                      int(ms[i] * 1e6), "Unset"])  # fmt: skip
        logs.append([times[i] + timedelta(seconds=60), "ml.outcome", "labeler",
                     {semconv.ML_PREDICTION_ID: pid, semconv.ML_OUTCOME_LABEL: str(int(y[i]))}])  # fmt: skip
    # purchases: independent of the model (no relationship to break), own latent demand
    p_mean = 0.05 * mean_n * np.exp(0.15 * demand)
    p_counts = rng.poisson(p_mean)
    pb = np.repeat(np.arange(nb), p_counts)
    pt = starts[pb] + rng.uniform(0, f.bucket_s, pb.size)
    pu = rng.integers(0, 3000, pb.size)
    value = np.round(np.exp(rng.normal(np.log(40), 0.5, pb.size)), 2)
    for when, u, v in zip(_ts(pt), pu, value, strict=True):
        logs.append([when, semconv.business_event("purchase"), "checkout",
                     {semconv.USER_ID: "u" + str(int(u)), semconv.BUSINESS_VALUE: repr(float(v))}])  # fmt: skip
    # routine pipelines: one successful run a day, a little jitter, data.version = the date
    for k, name in enumerate(PIPELINES[: f.pipelines]):
        for d in range(f.days + LEAD_DAYS):
            at = START + timedelta(days=d, hours=1 + 2 * k, minutes=int(rng.integers(0, 20)))
            logs.append([at, semconv.EVENT_PIPELINE_RUN, "airflow",
                         {semconv.PIPELINE_NAME: name, semconv.DATASET_NAME: name + "_data",
                          semconv.PIPELINE_STATUS: "success", semconv.DATA_VERSION: at.strftime("%Y-%m-%d")}])  # fmt: skip
    client.insert(
        semconv.TABLE_TRACES, spans,
        column_names=["Timestamp", "TraceId", "SpanId", "SpanName", "ServiceName", "SpanAttributes", "Duration",
                      "StatusCode"],
    )  # fmt: skip
    client.insert(
        semconv.TABLE_LOGS, logs, column_names=["Timestamp", "EventName", "ServiceName", "LogAttributes"]
    )
    return {"spans": len(spans), "logs": len(logs)}


def config(f: Family) -> dict[str, Any]:
    """A new user's configuration for the world: names only, statistical settings at their defaults."""
    bucket = "1h" if f.bucket_s == 3600.0 else "1d"
    names = PIPELINES[: f.pipelines]
    return {
        "models": ["ranker"],
        "segments": ["platform"],
        "business_metrics": [
            {
                "name": "purchase",
                "source": {"event": semconv.business_event("purchase")},
                "key": semconv.USER_ID,
                "window": "1d",
                "value": "sum",
            }
        ],
        "series": {"bucket": bucket},
        "lift": {
            "treatment": {semconv.ML_MODEL_VERSION: "v2"},
            "control": {semconv.ML_MODEL_VERSION: "v1"},
            "bootstrap": 500,
        },
        "lineage": {
            "models": {"ranker": {"features": ["user_ctr"]}},
            "features": {"user_ctr": {"datasets": [n + "_data" for n in names]}},
            "datasets": {n + "_data": {"pipelines": [n]} for n in names},
        },
        "pipelines": {n: {"schedule": "1d", "grace": "2h", "dataset": n + "_data"} for n in names},
        "incidents": {"bucket": bucket},
        "slos": {
            "models": [
                {
                    "name": "ranker-latency",
                    "model": "ranker",
                    "sli": "latency",
                    "objective": 0.99,
                    "threshold_ms": 250,
                }
            ],
            "pipelines": [
                {"name": n + "-fresh", "pipeline": n, "sli": "freshness", "objective": 0.99, "max_age": "26h"}
                for n in names
            ],
        },
        "job": {"name": "calibration", "first_run": f"{f.days}d"},
        "export": {"enabled": False},
    }
