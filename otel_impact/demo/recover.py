"""Read the analyzer's result back into the demo's *planted vs recovered* table.

:func:`recover` extracts, from the :class:`~otel_impact.records.Result` of the analysis job, what the analyzer found for
each planted effect (best lag, segment ranking, lift per tenure with its CI, breakdown alert,
incident and its linked cause); :func:`compare` lines that up against the
:class:`~otel_impact.demo.truth.PlantedTruth` as table rows with a verdict each. A section the
analyzer did not produce (its stage failed and was skipped) is reported as
``not recovered (stage unavailable)`` instead of failing the demo.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from otel_impact import semconv
from otel_impact.demo.truth import PlantedTruth
from otel_impact.demo.world import TENURES, WorldParams
from otel_impact.records import Alert, Correlation, Result, RolloutImpact, SegmentRank
from otel_impact.records import Lift as LiftRow

RECOVERED = "recovered"
MISSED = "not recovered"
UNAVAILABLE = "not recovered (stage unavailable)"
SIGN_ONLY = "sign recovered, size off"
OUTSIDE = "not planted in this window"
MIN_POINTS = 8  # the analyzer's default correlation.min_points (buckets after the lag)
MODEL_METRIC = "mean_score"  # the recommender's calibrated scores: its predicted CTR
BUSINESS_METRIC = "purchase"


@dataclass(frozen=True)
class Lift:
    estimate: float | None
    low: float | None
    high: float | None
    pvalue: float | None = None
    n: int | None = None

    @property
    def excludes_zero(self) -> bool:
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)


@dataclass(frozen=True)
class Incident:
    start: datetime | None
    metric: str | None
    cause: dict[str, Any] | None  # the top linked upstream event (its JSON keys), or None when unlinked


@dataclass
class Recovery:
    """What the analyzer recovered (None = nothing found; ``available`` lists present sections)."""

    available: set[str] = field(default_factory=set)
    lag_days: float | None = None
    lag_estimate: float | None = None
    tenure_order: tuple[str, ...] = ()
    lift: dict[str, Lift] = field(default_factory=dict)
    breakdown_at: datetime | None = None
    breakdown_message: str | None = None
    incident: Incident | None = None
    rollout: dict[str, tuple[Lift, str, str]] = field(
        default_factory=dict
    )  # market -> (effect, method, verdict)


@dataclass(frozen=True)
class Row:
    """One line of the planted vs recovered table."""

    effect: str
    planted: str
    recovered: str
    verdict: str

    @property
    def ok(self) -> bool:
        return self.verdict == RECOVERED

    @property
    def planted_here(self) -> bool:
        """False when the window is too short for this effect (it was not planted in it)."""
        return self.verdict != OUTSIDE


def _num(value: float | None) -> float | None:
    """A defined number (``None`` for undefined, NaN or infinite)."""
    if value is None or isinstance(value, bool):
        return None
    return float(value) if math.isfinite(value) else None


def _ci(ci: Sequence[float | None] | None) -> tuple[float | None, float | None]:
    if ci is not None and len(ci) >= 2:
        return _num(ci[0]), _num(ci[1])
    return None, None


def _best_lag(rows: list[Correlation], bucket_s: float) -> tuple[float | None, float | None]:
    """The lag of the strongest all-users CTR→purchase correlation (Pearson when there is one)."""
    candidates = [
        r
        for r in rows
        if r.model_metric == MODEL_METRIC
        and r.business_metric == BUSINESS_METRIC
        and not r.segment
        and _num(r.lag_s) is not None
    ]
    if not candidates:
        return None, None
    pearson = [r for r in candidates if r.method == "pearson"] or candidates
    best = max(pearson, key=lambda r: _num(r.estimate) or -math.inf)
    lag_s = _num(best.lag_s)
    return (lag_s / bucket_s if lag_s is not None else None), _num(best.estimate)


def _tenure_order(ranking: list[SegmentRank]) -> tuple[str, ...]:
    order: list[str] = []
    for row in ranking:
        if row.model_metric != MODEL_METRIC or row.business_metric != BUSINESS_METRIC:
            continue
        value = row.segment.get("tenure")
        if value in TENURES and value not in order:
            order.append(value)
    return tuple(order)


def _lifts(rows: list[LiftRow]) -> dict[str, Lift]:
    out: dict[str, Lift] = {}
    for row in rows:
        if row.metric != BUSINESS_METRIC:
            continue
        segment = row.segment
        if not segment:
            name = "all users"
        elif set(segment) == {"tenure"}:
            name = str(segment["tenure"])
        else:
            continue
        if name in out:
            continue
        low, high = _ci(row.ci)
        out[name] = Lift(_num(row.estimate), low, high, _num(row.pvalue), row.n)
    return out


def _rollout_effects(section: RolloutImpact | None) -> dict[str, tuple[Lift, str, str]]:
    """The preferred rollout-impact estimate on purchases per market."""
    out: dict[str, tuple[Lift, str, str]] = {}
    for row in section.effects if section is not None else []:
        if not row.preferred or row.metric != BUSINESS_METRIC:
            continue
        if set(row.segment) == {"market"}:
            low, high = _ci(row.ci)
            effect = Lift(_num(row.estimate), low, high, _num(row.pvalue))
            out[str(row.segment["market"])] = (effect, str(row.method), str(row.verdict_kind))
    return out


def _is_breakdown(alert: Alert) -> bool:
    """A breakdown alert on the planted model↔business pair."""
    if "breakdown" not in alert.rule:
        return False
    model = alert.attributes.get(semconv.IMPACT_MODEL_METRIC, MODEL_METRIC)
    business = alert.attributes.get(semconv.IMPACT_BUSINESS_METRIC, BUSINESS_METRIC)
    return bool(model == MODEL_METRIC and business == BUSINESS_METRIC)


def _alert_segment(alert: Alert) -> str:
    key = alert.attributes.get(semconv.IMPACT_SEGMENT_KEY)
    return f"{key}={alert.attributes.get(semconv.IMPACT_SEGMENT_VALUE)}" if key else ""


def recover(result: Result, *, bucket_s: float = 86_400.0) -> Recovery:
    """Extract the recovered effects from an analysis result."""
    # the sections the analyzer produced (a stage that failed leaves its section out)
    rec = Recovery(available={k for k in result.model_fields_set if getattr(result, k) is not None})
    rec.lag_days, rec.lag_estimate = _best_lag(result.correlations, bucket_s)
    rec.tenure_order = _tenure_order(result.segment_ranking)
    rec.lift = _lifts(result.lift)
    breakdowns = [a for a in result.firing_alerts() if _is_breakdown(a)]
    times = sorted(
        ((a.at, not _alert_segment(a), a) for a in breakdowns), key=lambda item: (item[0], not item[1])
    )
    if times:
        rec.breakdown_at, _, first = times[0]
        rec.breakdown_message = first.message
    rec.rollout = _rollout_effects(result.rollout_impact)
    found: list[Incident] = []
    for item in result.incidents:
        cause = item.linked[0].model_dump(by_alias=True) if item.linked else None
        found.append(Incident(item.anomaly.start, item.anomaly.metric, cause))
    if found:
        linked_first = [i for i in found if i.cause is not None] or found
        rec.incident = min(linked_first, key=lambda i: i.start or datetime.max.replace(tzinfo=UTC))
    return rec


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:+.1f}%"


def _day(params: WorldParams, when: datetime | None) -> str:
    if when is None:
        return "none"
    day = (when - params.start).total_seconds() / 86_400
    return f"{when.date().isoformat()} (day {day:.0f})"


def _lift_verdict(planted: float, lift: Lift) -> str:
    """A big plant must be detected (CI above 0), a ~0 plant must not be (CI spans 0), any other
    plant must lie inside the CI — or at least the CI must exclude 0 on the planted side."""
    if lift.low is None or lift.high is None:
        return MISSED
    if planted >= 0.2:
        return RECOVERED if lift.low > 0 else MISSED
    if planted <= 0.02:
        return RECOVERED if lift.low <= 0 <= lift.high else MISSED
    if lift.low <= planted <= lift.high:
        return RECOVERED
    return SIGN_ONLY if lift.low > 0 else MISSED


def compare(recovery: Recovery, params: WorldParams) -> list[Row]:
    """The planted vs recovered table for ``params``' planted truth."""
    t: PlantedTruth = params.truth
    rows: list[Row] = []
    has = recovery.available.__contains__

    days = params.days
    needs = MIN_POINTS + t.lag_days
    if days < needs:
        why = f"needs ≥ {needs} days, window has {days}"
        rows.append(Row("CTR → purchase lag", f"{t.lag_days} days", why, OUTSIDE))
    elif not has("correlations"):
        rows.append(Row("CTR → purchase lag", f"{t.lag_days} days", "-", UNAVAILABLE))
    else:
        lag = recovery.lag_days
        got = "none" if lag is None else f"{lag:g} days (r = {recovery.lag_estimate or float('nan'):.2f})"
        ok = lag is not None and round(lag) == t.lag_days and abs(lag - t.lag_days) < 1e-9
        rows.append(Row("CTR → purchase lag", f"{t.lag_days} days", got, RECOVERED if ok else MISSED))

    planted_order = " > ".join(t.expected_tenure_order())
    if days < needs:
        rows.append(Row("segments by CTR sensitivity", planted_order, f"needs ≥ {needs} days", OUTSIDE))
    elif not has("segment_ranking"):
        rows.append(Row("segments by CTR sensitivity", planted_order, "-", UNAVAILABLE))
    else:
        got_order = recovery.tenure_order
        ok = bool(got_order) and got_order[0] == t.expected_tenure_order()[0]
        rows.append(
            Row(
                "segments by CTR sensitivity",
                planted_order,
                " > ".join(got_order) or "none",
                RECOVERED if ok else MISSED,
            )
        )

    for tenure in TENURES:
        effect = f"v2 lift, tenure={tenure}"
        planted = _pct(t.lift_for(tenure))
        if not has("lift"):
            rows.append(Row(effect, planted, "-", UNAVAILABLE))
            continue
        lift = recovery.lift.get(tenure)
        if lift is None:
            rows.append(Row(effect, planted, "none", MISSED))
            continue
        got = f"{_pct(lift.estimate)} [{_pct(lift.low)}, {_pct(lift.high)}]"
        rows.append(Row(effect, planted, got, _lift_verdict(t.lift_for(tenure), lift)))

    for market, day in zip(t.widget_markets, t.widget_days, strict=True):
        effect = f"{t.widget} (no A/B), market={market}"
        planted = f"{_pct(t.widget_lift)} from day {day}"
        if not has("rollout_impact"):
            rows.append(Row(effect, planted, "-", UNAVAILABLE))
            continue
        found = recovery.rollout.get(market)
        if found is None:
            rows.append(Row(effect, planted, "none", MISSED))
            continue
        est, method, verdict = found
        got = f"{_pct(est.estimate)} [{_pct(est.low)}, {_pct(est.high)}] {method.replace('_', ' ')}"
        if verdict == "refused":
            rows.append(Row(effect, planted, f"refused ({method.replace('_', ' ')})", MISSED))
        else:
            rows.append(Row(effect, planted, got, _lift_verdict(t.widget_lift, est)))

    planted_break = params.start + timedelta(days=t.breakdown_day)
    if t.breakdown_day >= days:
        rows.append(
            Row("model↔business breakdown", f"day {t.breakdown_day}", f"after day {days - 1}", OUTSIDE)
        )
    elif not has("alerts") or not has("correlations"):
        rows.append(Row("model↔business breakdown", _day(params, planted_break), "-", UNAVAILABLE))
    else:
        at = recovery.breakdown_at
        ok = at is not None and abs((at - planted_break).total_seconds()) <= 3 * 86_400
        rows.append(
            Row(
                "model↔business breakdown",
                _day(params, planted_break),
                _day(params, at),
                RECOVERED if ok else MISSED,
            )
        )

    planted_drop = params.start + timedelta(days=t.degradation_day)
    planted_cause = f"{t.pipeline} {t.schema_change_kind} (day {t.schema_change_day})"
    if t.degradation_day >= days:
        rows.append(Row("AUC drop (incident)", f"day {t.degradation_day}", f"after day {days - 1}", OUTSIDE))
        rows.append(Row("incident linked cause", planted_cause, f"after day {days - 1}", OUTSIDE))
    elif not has("incidents"):
        rows.append(Row("AUC drop (incident)", _day(params, planted_drop), "-", UNAVAILABLE))
        rows.append(Row("incident linked cause", planted_cause, "-", UNAVAILABLE))
    else:
        inc = recovery.incident
        start = inc.start if inc else None
        ok = start is not None and abs((start - planted_drop).total_seconds()) <= 86_400
        rows.append(
            Row(
                "AUC drop (incident)",
                _day(params, planted_drop),
                _day(params, start),
                RECOVERED if ok else MISSED,
            )
        )
        cause = inc.cause if inc else None
        if cause is None:
            rows.append(Row("incident linked cause", planted_cause, "unlinked", MISSED))
        else:
            name = cause[semconv.PIPELINE_NAME]
            change = cause["change"] or cause["status"]
            ok = name == t.pipeline and change == t.schema_change_kind
            rows.append(
                Row("incident linked cause", planted_cause, f"{name} {change}", RECOVERED if ok else MISSED)
            )
    return rows


def table_lines(rows: list[Row]) -> list[str]:
    """The rows as an aligned plain-text table."""
    head = ("effect", "planted", "recovered", "verdict")
    cells = [head, *[(r.effect, r.planted, r.recovered, r.verdict) for r in rows]]
    widths = [max(len(c[i]) for c in cells) for i in range(4)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*head), "  ".join("-" * w for w in widths)]
    lines += [fmt.format(*c) for c in cells[1:]]
    return [line.rstrip() for line in lines]


def table_markdown(rows: list[Row]) -> list[str]:
    """The rows as a Markdown table."""
    lines = ["| effect | planted | recovered | verdict |", "|---|---|---|---|"]
    lines += [f"| {r.effect} | {r.planted} | {r.recovered} | {r.verdict} |" for r in rows]
    return lines
