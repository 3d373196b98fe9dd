"""Link a model-metric anomaly to the upstream pipeline events that preceded it, ranked.

"When accuracy dips, what changed upstream?" Every upstream event (a ``pipeline.run`` or
``pipeline.incident`` log event, a pipeline tool's span, or a synthetic ``late``/``missing`` run
from the freshness check) in the ``window`` seconds before the anomaly's start is a candidate
cause — **a cause precedes its effect**. Events after the start are admitted in two cases only:
within ``skew`` seconds (clock skew between the pipeline's host and the services, default
5 minutes) with full proximity, and inside the first anomalous bucket (``tolerance``) with at
most half the proximity, fading to zero at the bucket's end (the onset is only known to the
bucket; an event late in the bucket cannot have moved that bucket's value).

A pipeline's **routine** is background, never a candidate: a successful run on its cadence with
no declared ``pipeline.change`` and a ``data.version`` that is unchanged or a date stamp that
just advances (``2026-11-13``, ``20261113`` … within a week of the run) has severity 0.
:func:`mark_version_changes` marks what breaks the routine: a ``data.version`` that changes
otherwise (``data_version``; e.g. ``v7`` → ``v8``, or a date stamp going backwards), unless the
pipeline changes a non-date version on most runs (then a change is its routine too), and a
run less than half a period after the previous one of a scheduled pipeline (``off_cadence``).

The score is the product of three factors in [0, 1]:

* **lineage** — how close the event is to the model in the lineage graph
  model → features → datasets → pipelines: an event on a dataset feeding one of the model's
  features (distance 2) weighs 1.0, an event of a pipeline producing such a dataset
  (distance 3) 0.8, anything unrelated 0.25; when the model has no lineage at all, 0.5.
* **severity** — the evidence the event itself carries: a failed run or a schema change 1.0,
  a missing run 0.9, a late run 0.7, another non-success status 0.6, a declared
  ``pipeline.change`` 0.6, a ``pipeline.incident`` without a failing status 0.5, a
  ``data_version`` change that breaks the routine 0.5, an off-cadence run 0.4, routine 0.
* **proximity** — ``1 − 0.5 · lag / window`` before the start (1 at the start, 0.5 at the
  window's edge); see above for events after it.

Candidates scoring below ``min_score`` are dropped; the rest are ranked by score, then recency,
then name. :data:`LIKELY_CAUSE_SCORE` (0.5) is the evidence needed to call the best candidate
the *likely cause* — an in-lineage failure, schema change, missing/late run or declared change
shortly before the start; a weaker best candidate is only a *possible* one, and an anomaly
without candidates is "unlinked". :data:`STRONG_EVIDENCE_SCORE` (0.8) is what a critical
incident needs. The ranking is deterministic: same inputs, same order.

>>> lin = Lineage.from_maps({"ranker": ["user_ctr"]}, {"user_ctr": ["clicks"]}, {"clicks": ["features_daily"]})
>>> ev = [UpstreamEvent(at=100.0, pipeline="features_daily", dataset="clicks", status="success",
...                     change="schema_change"),
...       UpstreamEvent(at=100.0, pipeline="billing", dataset="invoices", status="failed"),
...       UpstreamEvent(at=900.0, pipeline="features_daily", dataset="clicks", status="failed")]
>>> [(lk.event.pipeline, round(lk.score, 3)) for lk in link_events(150.0, ev, model="ranker", lineage=lin, window=100.0)]
[('features_daily', 0.75), ('billing', 0.188)]
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

FAILED_STATUSES = frozenset({"failed", "failure", "error", "aborted", "cancelled", "canceled", "timeout"})
SUCCESS_STATUSES = frozenset({"success", "succeeded", "ok", "completed", "done", ""})
SCHEMA_CHANGES = frozenset({"schema_change", "schema", "schema_changed"})

LINEAGE_WEIGHT_DATASET = 1.0
LINEAGE_WEIGHT_PIPELINE = 0.8
LINEAGE_WEIGHT_UNRELATED = 0.25
LINEAGE_WEIGHT_UNKNOWN_MODEL = 0.5

CLOCK_SKEW = 300.0  # seconds an event may follow the anomaly's start and still count in full
LIKELY_CAUSE_SCORE = 0.5  # best link at least this strong → "likely cause"
STRONG_EVIDENCE_SCORE = 0.8  # best link at least this strong → an incident may be critical
ROUTINE_VERSION_SHARE = 0.8  # a pipeline changing a non-date version on ≥ 80 % of runs: routine
DATE_VERSION_DAYS = 7.0  # a date-stamped version within a week before (or a day after) the run
CHANGE_DATA_VERSION = "data_version"
CHANGE_OFF_CADENCE = "off_cadence"
_DATE = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})(?!\d)")


@dataclass(frozen=True)
class UpstreamEvent:
    """One upstream happening: a run, an incident, a pipeline span, or a late/missing run."""

    at: float  # epoch seconds
    pipeline: str = ""
    dataset: str = ""
    status: str = ""
    change: str = ""
    version: str = ""
    kind: str = "pipeline.run"  # pipeline.run | pipeline.incident | span | late | missing


@dataclass(frozen=True)
class Lineage:
    """Which datasets and pipelines feed each model (flattened from the config's graph)."""

    datasets: Mapping[str, frozenset[str]]  # model → datasets feeding its features
    pipelines: Mapping[str, frozenset[str]]  # model → pipelines producing those datasets

    @classmethod
    def from_maps(
        cls,
        models: Mapping[str, Iterable[str]],
        features: Mapping[str, Iterable[str]],
        datasets: Mapping[str, Iterable[str]],
    ) -> Lineage:
        """Build from ``model → features``, ``feature → datasets``, ``dataset → pipelines``."""
        ds: dict[str, frozenset[str]] = {}
        pl: dict[str, frozenset[str]] = {}
        for model, feats in models.items():
            mds = frozenset(d for f in feats for d in features.get(f, ()))
            ds[model] = mds
            pl[model] = frozenset(p for d in mds for p in datasets.get(d, ()))
        return cls(ds, pl)

    def distance(self, model: str, event: UpstreamEvent) -> int | None:
        """Graph distance model → event (2 = feeding dataset, 3 = feeding pipeline), else None."""
        if event.dataset and event.dataset in self.datasets.get(model, frozenset()):
            return 2
        if event.pipeline and event.pipeline in self.pipelines.get(model, frozenset()):
            return 3
        return None

    def knows(self, model: str) -> bool:
        return bool(self.datasets.get(model) or self.pipelines.get(model))


EMPTY_LINEAGE = Lineage({}, {})


@dataclass(frozen=True)
class Link:
    """An upstream event offered as a cause of an anomaly, with how it was scored."""

    event: UpstreamEvent
    score: float
    lag_s: float  # anomaly start − event time (negative: the event followed the start)
    distance: int | None
    lineage_weight: float
    severity: float
    proximity: float


def severity(event: UpstreamEvent) -> float:
    """How strongly this event suggests a data problem (see the module docstring); 0 = routine."""
    status = event.status.strip().lower()
    change = event.change.strip().lower()
    if event.kind == "missing" or status == "missing":
        return 0.9
    if event.kind == "late" or status == "late":
        return 0.7
    if status in FAILED_STATUSES or change in SCHEMA_CHANGES:
        return 1.0
    if status not in SUCCESS_STATUSES:
        return 0.6
    if change == CHANGE_OFF_CADENCE:
        return 0.4
    if change == CHANGE_DATA_VERSION or event.kind == "pipeline.incident":
        return 0.5
    if change:
        return 0.6  # a declared pipeline.change
    return 0.0


def lineage_weight(model: str, event: UpstreamEvent, lineage: Lineage) -> tuple[float, int | None]:
    """Weight of ``event`` for ``model`` by lineage distance, and the distance."""
    if not lineage.knows(model):
        return LINEAGE_WEIGHT_UNKNOWN_MODEL, None
    dist = lineage.distance(model, event)
    if dist == 2:
        return LINEAGE_WEIGHT_DATASET, dist
    if dist == 3:
        return LINEAGE_WEIGHT_PIPELINE, dist
    return LINEAGE_WEIGHT_UNRELATED, None


def proximity(lag: float, *, window: float, tolerance: float, skew: float = CLOCK_SKEW) -> float:
    """Weight of an event ``lag`` seconds before the anomaly's start (negative: after it); 0 = out.

    >>> proximity(0.0, window=100.0, tolerance=10.0), proximity(100.0, window=100.0, tolerance=10.0)
    (1.0, 0.5)
    >>> proximity(-5.0, window=100.0, tolerance=10.0, skew=0.0)
    0.25
    """
    if lag > window or lag < -max(tolerance, skew):
        return 0.0
    if lag >= -skew:
        return 1.0 - 0.5 * max(lag, 0.0) / window
    return 0.5 * (1.0 + lag / tolerance)  # inside the first anomalous bucket: at most one half


def link_events(
    anomaly_start: float,
    events: Sequence[UpstreamEvent],
    *,
    model: str,
    lineage: Lineage = EMPTY_LINEAGE,
    window: float,
    tolerance: float = 0.0,
    skew: float = CLOCK_SKEW,
    min_score: float = 0.15,
    limit: int = 10,
) -> tuple[Link, ...]:
    """Upstream events in ``[anomaly_start − window, anomaly_start]`` (plus the clock-skew grace
    and the first bucket, see :func:`proximity`) scoring at least ``min_score``, best first."""
    if not (window > 0 and math.isfinite(window)):
        raise ValueError(f"window must be a positive number of seconds, got {window!r}")
    if not (tolerance >= 0 and math.isfinite(tolerance)):
        raise ValueError(f"tolerance must be ≥ 0 seconds, got {tolerance!r}")
    if not (skew >= 0 and math.isfinite(skew)):
        raise ValueError(f"skew must be ≥ 0 seconds, got {skew!r}")
    if not (0.0 <= min_score <= 1.0):
        raise ValueError(f"min_score must be in [0, 1], got {min_score!r}")
    if limit < 1:
        raise ValueError(f"limit must be ≥ 1, got {limit!r}")
    if not math.isfinite(anomaly_start):
        raise ValueError(f"anomaly_start must be finite, got {anomaly_start!r}")
    links: list[Link] = []
    for ev in events:
        lag = anomaly_start - ev.at
        prox = proximity(lag, window=window, tolerance=tolerance, skew=skew)
        sev = severity(ev)
        if prox <= 0.0 or sev <= 0.0:
            continue
        weight, dist = lineage_weight(model, ev, lineage)
        score = weight * sev * prox
        if score >= min_score:
            links.append(Link(ev, score, lag, dist, weight, sev, prox))
    links.sort(
        key=lambda lk: (-round(lk.score, 12), lk.lag_s, lk.event.pipeline, lk.event.dataset, lk.event.kind)
    )
    return tuple(links[:limit])


def _version_date(version: str) -> float | None:
    """Epoch seconds of the date stamped in a version string (``2026-11-13``, ``d20261113``)."""
    m = _DATE.search(version)
    if m is None:
        return None
    try:
        return datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=UTC).timestamp()
    except ValueError:
        return None


def _routine_date(prev: str, version: str, at: float) -> bool:
    """A date-stamped version that advances and lies within a week before (a day after) the run."""
    new, old = _version_date(version), _version_date(prev)
    if new is None or old is None or new < old:
        return False
    return at - DATE_VERSION_DAYS * 86400.0 <= new <= at + 86400.0


def mark_version_changes(
    events: Sequence[UpstreamEvent], schedules: Mapping[str, float] | None = None
) -> list[UpstreamEvent]:
    """Events sorted by time; runs that break their pipeline's routine get a ``change`` mark.

    A run whose ``version`` differs from the previous run of the same pipeline and dataset gets
    ``change="data_version"`` — unless the new version is a date stamp that advances and lies
    within :data:`DATE_VERSION_DAYS` before the run (a daily partition), or the pipeline changes
    its non-date version on at least :data:`ROUTINE_VERSION_SHARE` of its runs. A run of a
    pipeline in ``schedules`` (name → period in seconds) less than half a period after its
    previous run gets ``change="off_cadence"``. Declared changes are kept as they are.
    """
    ordered = sorted(events, key=lambda e: (e.at, e.pipeline, e.dataset, e.kind, e.status, e.version))
    schedules = schedules or {}
    changes: dict[tuple[str, str], list[bool]] = {}  # per pipeline: non-date version changed?
    last: dict[tuple[str, str], str] = {}
    for ev in ordered:
        key = (ev.pipeline, ev.dataset)
        if ev.version:
            prev = last.get(key)
            if prev is not None:
                changes.setdefault(key, []).append(
                    prev != ev.version and not _routine_date(prev, ev.version, ev.at)
                )
            last[key] = ev.version
    routine = {k for k, v in changes.items() if len(v) >= 3 and sum(v) >= ROUTINE_VERSION_SHARE * len(v)}
    out: list[UpstreamEvent] = []
    last.clear()
    last_run: dict[str, float] = {}
    for ev in ordered:
        key = (ev.pipeline, ev.dataset)
        prev = last.get(key)
        mark = ""
        if ev.version:
            last[key] = ev.version
            if (
                prev is not None
                and prev != ev.version
                and key not in routine
                and not _routine_date(prev, ev.version, ev.at)
            ):
                mark = CHANGE_DATA_VERSION
        if ev.kind in ("pipeline.run", "span") and ev.status.strip().lower() in SUCCESS_STATUSES:
            period = schedules.get(ev.pipeline)
            before = last_run.get(ev.pipeline)
            if period and before is not None and ev.at - before < 0.5 * period and not mark:
                mark = CHANGE_OFF_CADENCE
            last_run[ev.pipeline] = ev.at
        out.append(replace(ev, change=mark) if mark and not ev.change else ev)
    return out


@dataclass(frozen=True)
class Freshness:
    """A pipeline's runs against its expected schedule over ``[start, end)``."""

    last_run: float  # epoch seconds of the latest run at or before ``end`` (NaN: none seen)
    expected_next: float  # when the next run is due (last run + schedule); NaN without runs
    status: str  # "ok" | "late" (latest slot overdue past its grace) | "missing" | "unknown"
    late: int  # runs that arrived after their deadline, inside the window
    missing: int  # expected runs that never came, inside the window
    gaps: tuple[UpstreamEvent, ...]  # synthetic ``late``/``missing`` events at each deadline
    n: int  # runs seen in the window


def check_freshness(
    runs: Iterable[float],
    *,
    schedule: float,
    grace: float = 0.0,
    start: float,
    end: float,
    pipeline: str = "",
    dataset: str = "",
) -> Freshness:
    """Late and missing runs of a pipeline expected every ``schedule`` seconds (+ ``grace``).

    Walks the expected slots from the first run seen (runs before ``start`` may be passed so
    the first slot is anchored): the run after ``last`` is due at ``last + schedule`` and late
    after ``last + schedule + grace``. A run arriving after its deadline but less than half a
    period after its due time is one ``late`` event (placed at the deadline); otherwise the slot
    is a ``missing`` event and the walk continues from the due time (so a later run is matched
    to the next slot, and the walk re-anchors on each run that is matched). A slot overdue at
    ``end`` but less than half a period past due is ``late`` (status "late"); more, "missing". Only
    deadlines inside ``[start, end)`` produce events. No run at all → status "unknown" and one
    ``missing`` event at ``start + schedule + grace`` if that deadline lies in the window.

    >>> f = check_freshness([0, 86400, 3 * 86400], schedule=86400, grace=3600, start=0, end=4 * 86400)
    >>> f.status, f.late, f.missing, [g.kind for g in f.gaps]
    ('ok', 0, 1, ['missing'])
    """
    if not (schedule > 0 and math.isfinite(schedule)):
        raise ValueError(f"schedule must be a positive number of seconds, got {schedule!r}")
    if not (grace >= 0 and math.isfinite(grace)):
        raise ValueError(f"grace must be ≥ 0 seconds, got {grace!r}")
    if not end > start:
        raise ValueError(f"end must be after start, got start={start!r} end={end!r}")
    times = sorted(t for t in runs if math.isfinite(t) and t < end)
    gaps: list[UpstreamEvent] = []

    def gap(kind: str, deadline: float) -> None:
        if start <= deadline < end:
            gaps.append(UpstreamEvent(deadline, pipeline, dataset, kind, "", "", kind))

    if not times:
        gap("missing", start + schedule + grace)
        return Freshness(math.nan, math.nan, "unknown", 0, len(gaps), tuple(gaps), 0)
    last, i = times[0], 1
    while True:
        deadline = last + schedule + grace
        if deadline >= end:
            break
        nxt = times[i] if i < len(times) else None
        if nxt is None and end < last + 1.5 * schedule:
            gap("late", deadline)  # overdue at the window's end, may still arrive
            break
        if nxt is not None and nxt <= deadline:
            last, i = nxt, i + 1
        elif nxt is not None and nxt < last + 1.5 * schedule:
            gap("late", deadline)
            last, i = nxt, i + 1
        else:
            gap("missing", deadline)
            last = last + schedule
    latest = times[-1]
    due = latest + schedule
    status = "ok" if end <= due + grace else ("late" if end < due + 0.5 * schedule else "missing")
    n = sum(1 for t in times if t >= start)
    late = sum(1 for g in gaps if g.kind == "late")
    return Freshness(latest, due, status, late, len(gaps) - late, tuple(gaps), n)


__all__ = [
    "CHANGE_DATA_VERSION",
    "CHANGE_OFF_CADENCE",
    "CLOCK_SKEW",
    "EMPTY_LINEAGE",
    "LIKELY_CAUSE_SCORE",
    "STRONG_EVIDENCE_SCORE",
    "Freshness",
    "Lineage",
    "Link",
    "UpstreamEvent",
    "check_freshness",
    "lineage_weight",
    "link_events",
    "mark_version_changes",
    "proximity",
    "severity",
]
