"""Turn an analysis :class:`~otel_impact.records.Result` into ``impact.*`` points and events
(pure, no I/O).

Every point is timestamped at the end of what it describes: a series value at its bucket's end,
a window-level estimate (correlation, lift, ROI …) at the analysed window's end. Every point and
event carries ``impact.run.id`` and the window (``impact.window.start`` / ``impact.window.end``,
spelled as in the JSON result), so re-exports of the same bucket are recognisable and the
deduplicated views keep the latest run. An undefined number (``None``, NaN, ±inf: ``null`` in the
JSON result) is skipped, never exported as 0.

>>> segment_attrs({"market": "de"})[sc.IMPACT_SEGMENT_KEY]
'market'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from otel_impact import semconv as sc
from otel_impact.context import iso_utc
from otel_impact.records import Ci, Correlation, Result, RolloutImpact, Severity, Transfer

# name -> (unit, description)
METRICS: dict[str, tuple[str, str]] = {
    sc.METRIC_IMPACT_CORRELATION: ("1", "Correlation of a model metric with a business metric"),
    sc.METRIC_IMPACT_CORRELATION_CI_LOW: ("1", "Lower confidence bound of the correlation"),
    sc.METRIC_IMPACT_CORRELATION_CI_HIGH: ("1", "Upper confidence bound of the correlation"),
    sc.METRIC_IMPACT_CORRELATION_PVALUE: ("1", "p-value of the correlation"),
    sc.METRIC_IMPACT_BEST_LAG: ("s", "Lag at which the model metric best predicts the business metric"),
    sc.METRIC_IMPACT_TRANSFER_SLOPE: ("1", "Business-metric change per unit of model-metric change"),
    sc.METRIC_IMPACT_ATTRIBUTED_VALUE: ("{value}", "Business value attributed to a model version"),
    sc.METRIC_IMPACT_ATTRIBUTED_CREDIT: ("{conversion}", "Conversions credited to a model version"),
    sc.METRIC_IMPACT_LIFT: ("1", "Lift of treatment over control"),
    sc.METRIC_IMPACT_LIFT_CI_LOW: ("1", "Lower confidence bound of the lift"),
    sc.METRIC_IMPACT_LIFT_CI_HIGH: ("1", "Upper confidence bound of the lift"),
    sc.METRIC_IMPACT_LIFT_PVALUE: ("1", "p-value of the lift"),
    sc.METRIC_IMPACT_ROI: ("%", "Return on investment of a model version"),
    sc.METRIC_IMPACT_NET_BENEFIT: ("{value}", "Incremental value minus cost of a model version"),
    sc.METRIC_IMPACT_SERIES: ("1", "Bucketed model or business series value"),
    sc.METRIC_IMPACT_EVALUATION_OFFLINE: ("1", "Offline metric of an AI feature"),
    sc.METRIC_IMPACT_EVALUATION_ONLINE: ("1", "Online metric of an AI feature"),
    sc.METRIC_IMPACT_SLO_SLI: ("1", "SLI of an SLO over the window (good / all)"),
    sc.METRIC_IMPACT_SLO_BUDGET_REMAINING: ("1", "Share of the SLO period's error budget left"),
    sc.METRIC_IMPACT_SLO_BURN_RATE: ("1", "Error-budget burn rate over a long alert window"),
    sc.METRIC_IMPACT_ROLLOUT_EFFECT: ("1", "Relative effect of a rollout without an A/B test"),
    sc.METRIC_IMPACT_ROLLOUT_EFFECT_CI_LOW: ("1", "Lower confidence bound of the rollout effect"),
    sc.METRIC_IMPACT_ROLLOUT_EFFECT_CI_HIGH: ("1", "Upper confidence bound of the rollout effect"),
    sc.METRIC_IMPACT_ROLLOUT_EFFECT_PVALUE: ("1", "p-value of the rollout effect"),
    sc.METRIC_IMPACT_ROLLOUT_MDE: ("1", "Smallest relative rollout effect detectable at 80 % power"),
    sc.METRIC_IMPACT_COST_TOTAL: ("{currency}", "LLM cost of a model version in the window"),
    sc.METRIC_IMPACT_COST_PER_OUTCOME: ("{currency}", "LLM cost per attributed business outcome"),
    sc.METRIC_IMPACT_COST_PER_VALUE: ("1", "LLM cost per unit of attributed business value"),
    sc.METRIC_IMPACT_COST_TOKENS: ("{token}", "Tokens of a model version in the window"),
}

Attrs = dict[str, str | int | float | bool]


@dataclass(frozen=True)
class ImpactPoint:
    """One gauge data point of an ``impact.*`` metric."""

    name: str
    value: float
    time_unix_nano: int
    attributes: Attrs = field(default_factory=dict)

    @property
    def unit(self) -> str:
        return METRICS.get(self.name, ("1", ""))[0]

    @property
    def description(self) -> str:
        return METRICS.get(self.name, ("1", ""))[1]


@dataclass(frozen=True)
class ImpactEvent:
    """One ``impact.alert`` / ``impact.incident`` log event."""

    name: str
    time_unix_nano: int
    body: str
    severity: str = "INFO"
    attributes: Attrs = field(default_factory=dict)


def parse_time(value: Any) -> datetime:
    """An ISO-8601 string or datetime as an aware UTC datetime (naive = UTC).

    Not used on results (their times are datetimes already); kept for the reports' chart axes."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace(" ", "T", 1))
    else:
        raise ValueError(f"expected an ISO-8601 time, got {value!r}")
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def to_ns(value: datetime | str) -> int:
    """Nanoseconds since the epoch of a datetime (naive = UTC); an ISO-8601 string is parsed
    (:func:`parse_time`) — result times are datetimes and are never parsed."""
    dt = parse_time(value) if isinstance(value, str) else value
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return (int(dt.timestamp()) * 1_000_000_000) + dt.microsecond * 1000


def _num(value: float | None) -> float | None:
    """The value as a float, or ``None`` when undefined (``None``, NaN, ±inf: ``null`` in JSON)."""
    if value is None:
        return None
    out = float(value)
    return out if math.isfinite(out) else None


def segment_attrs(segment: Mapping[str, Any] | None) -> Attrs:
    """``ml.segment.<key>`` per key plus the joined ``impact.segment.key/value`` ({} = all users)."""
    seg = dict(segment or {})
    out: Attrs = {sc.segment_attribute(str(k)): str(v) for k, v in sorted(seg.items())}
    out[sc.IMPACT_SEGMENT_KEY] = ",".join(str(k) for k in sorted(seg)) or "all"
    out[sc.IMPACT_SEGMENT_VALUE] = ",".join(str(seg[k]) for k in sorted(seg)) or "all"
    return out


def _relation_attrs(row: Correlation | Transfer) -> Attrs:
    """The attributes of a model metric ↔ business metric estimate (correlation or transfer)."""
    return {
        sc.IMPACT_MODEL_METRIC: row.model_metric,
        sc.IMPACT_BUSINESS_METRIC: row.business_metric,
        sc.IMPACT_METHOD: row.method,
        sc.IMPACT_LAG_S: _num(row.lag_s) or 0.0,
        **_model_attrs(row.model_name),
        **segment_attrs(row.segment),
    }


def _model_attrs(name: str | None, version: str | None = None) -> Attrs:
    """``ml.model.name`` (and ``ml.model.version``), those that are set."""
    out: Attrs = {}
    if name is not None:
        out[sc.ML_MODEL_NAME] = name
    if version is not None:
        out[sc.ML_MODEL_VERSION] = version
    return out


def _kv(mapping: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(mapping.items()))


def _ci(ci: Ci | None) -> tuple[float | None, float | None]:
    if ci is not None and len(ci) >= 2:
        return _num(ci[0]), _num(ci[1])
    return None, None


Add = Callable[..., None]
"""``add(name, value, attrs[, time_unix_nano])``: one point, skipped when ``value`` is undefined."""


def result_points(result: Result, *, run_id: str) -> list[ImpactPoint]:
    """All ``impact.*`` gauge points of a result (undefined values are skipped)."""
    window = result.window
    end_ns = to_ns(window.end)
    base: Attrs = {
        sc.IMPACT_RUN_ID: run_id,
        sc.IMPACT_WINDOW_START: iso_utc(window.start),
        sc.IMPACT_WINDOW_END: iso_utc(window.end),
    }
    out: list[ImpactPoint] = []

    def add(name: str, value: float | None, attrs: Attrs, ts: int = end_ns) -> None:
        v = _num(value)
        if v is not None:
            out.append(ImpactPoint(name, v, ts, {**base, **attrs}))

    _correlation_points(result, add)
    for t in result.transfer:
        add(sc.METRIC_IMPACT_TRANSFER_SLOPE, t.estimate, _relation_attrs(t))

    for a in result.attribution:
        attrs = {
            sc.IMPACT_BUSINESS_METRIC: a.business_metric,
            sc.IMPACT_ATTRIBUTION_MODEL: a.model,
            sc.ML_MODEL_NAME: a.model_name,
            sc.ML_MODEL_VERSION: a.model_version,
            **segment_attrs(a.segment),
        }
        add(sc.METRIC_IMPACT_ATTRIBUTED_VALUE, a.value, attrs)
        add(sc.METRIC_IMPACT_ATTRIBUTED_CREDIT, a.credit, attrs)

    for lift in result.lift:
        attrs = {
            sc.IMPACT_BUSINESS_METRIC: lift.metric,
            sc.IMPACT_TREATMENT: _kv(lift.treatment),
            sc.IMPACT_CONTROL: _kv(lift.control),
            sc.IMPACT_METHOD: lift.method,
            **segment_attrs(lift.segment),
        }
        add(sc.METRIC_IMPACT_LIFT, lift.estimate, attrs)
        lo, hi = _ci(lift.ci)
        add(sc.METRIC_IMPACT_LIFT_CI_LOW, lo, attrs)
        add(sc.METRIC_IMPACT_LIFT_CI_HIGH, hi, attrs)
        add(sc.METRIC_IMPACT_LIFT_PVALUE, lift.pvalue, attrs)

    for roi in result.roi:
        attrs = {
            sc.ML_MODEL_NAME: roi.model_name,
            # an unknown version is spelled "None", as the JSON-reading exporter always did
            sc.ML_MODEL_VERSION: str(roi.model_version),
            sc.IMPACT_BUSINESS_METRIC: roi.metric,
            sc.IMPACT_TREATMENT: _kv(roi.treatment),
            sc.IMPACT_METHOD: roi.method,
        }
        add(sc.METRIC_IMPACT_ROI, roi.roi_pct, attrs)
        add(sc.METRIC_IMPACT_NET_BENEFIT, roi.net_benefit, attrs)

    _rollout_points(result.rollout_impact, add)
    for c in result.cost:  # LLM cost per business outcome (stages/llm.py)
        attrs = {
            sc.IMPACT_BUSINESS_METRIC: c.business_metric,
            sc.ML_MODEL_NAME: c.model_name,
            sc.IMPACT_ATTRIBUTION_MODEL: c.attribution_model,
            **segment_attrs(c.segment),
            **_model_attrs(None, c.model_version),
        }
        add(sc.METRIC_IMPACT_COST_TOTAL, c.cost, attrs)
        add(sc.METRIC_IMPACT_COST_PER_OUTCOME, c.cost_per_outcome, attrs)
        add(sc.METRIC_IMPACT_COST_PER_VALUE, c.cost_per_value, attrs)
        tokens = (
            ("input", c.input_tokens),
            ("output", c.output_tokens),
            ("cached_input", c.cached_input_tokens),
        )
        for token_type, count in tokens:
            add(sc.METRIC_IMPACT_COST_TOKENS, count, {**attrs, sc.IMPACT_COST_TOKEN_TYPE: token_type})

    for s in result.series:
        attrs = {
            sc.IMPACT_SERIES_NAME: s.name,
            sc.IMPACT_SERIES_KIND: s.kind,
            **_model_attrs(s.model_name, s.model_version),
            **segment_attrs(s.segment),
        }
        if s.business_metric is not None:
            attrs[sc.IMPACT_BUSINESS_METRIC] = s.business_metric
        for ts, value in zip(bucket_ends(s.buckets, end_ns), s.values, strict=False):
            add(sc.METRIC_IMPACT_SERIES, value, attrs, ts)

    for e in result.evaluation or []:
        attrs = {sc.IMPACT_EVALUATION_FEATURE: e.feature, sc.IMPACT_EVALUATION_DECISION: e.decision}
        add(sc.METRIC_IMPACT_EVALUATION_OFFLINE, e.offline.value, attrs)
        add(sc.METRIC_IMPACT_EVALUATION_ONLINE, e.online.value, attrs)

    for slo in result.slos or []:
        attrs = {sc.IMPACT_SLO_NAME: slo.name, sc.IMPACT_SLO_KIND: slo.sli}
        if slo.model_name is not None:
            attrs[sc.ML_MODEL_NAME] = slo.model_name
        if slo.pipeline is not None:
            attrs[sc.PIPELINE_NAME] = slo.pipeline
        add(sc.METRIC_IMPACT_SLO_SLI, slo.estimate, attrs)
        add(sc.METRIC_IMPACT_SLO_BUDGET_REMAINING, slo.budget_remaining, attrs)
        for w in slo.windows:
            add(sc.METRIC_IMPACT_SLO_BURN_RATE, w.burn_long, {**attrs, sc.IMPACT_SLO_WINDOW: w.window})
    return out


def _correlation_points(result: Result, add: Add) -> None:
    """``impact.correlation*`` per row, and ``impact.best_lag``: the lag of the row with the
    largest absolute correlation per model metric × business metric × model × segment."""
    best: dict[tuple[str, str, str, str], tuple[float, Attrs, float | None]] = {}
    for row in result.correlations:
        attrs = _relation_attrs(row)
        add(sc.METRIC_IMPACT_CORRELATION, row.estimate, attrs)
        lo, hi = _ci(row.ci)
        add(sc.METRIC_IMPACT_CORRELATION_CI_LOW, lo, attrs)
        add(sc.METRIC_IMPACT_CORRELATION_CI_HIGH, hi, attrs)
        add(sc.METRIC_IMPACT_CORRELATION_PVALUE, row.pvalue, attrs)
        key = (row.model_metric, row.business_metric, row.model_name, _kv(row.segment))
        est = _num(row.estimate)
        prev = best.get(key)
        if est is not None and (prev is None or abs(est) > abs(prev[0])):
            lag_attrs = {k: v for k, v in attrs.items() if k not in (sc.IMPACT_METHOD, sc.IMPACT_LAG_S)}
            best[key] = (est, lag_attrs, row.lag_s)
    for _, lag_attrs, lag_s in best.values():
        add(sc.METRIC_IMPACT_BEST_LAG, lag_s, lag_attrs)


def _rollout_points(section: RolloutImpact | None, add: Add) -> None:
    """``impact.rollout.*`` points of the rollout-impact stage's effect rows."""
    for row in section.effects if section is not None else []:
        attrs: Attrs = {
            sc.IMPACT_BUSINESS_METRIC: row.metric,
            sc.IMPACT_METHOD: row.method,
            sc.IMPACT_ROLLOUT_NAME: row.rollout,
            sc.IMPACT_ROLLOUT_START: iso_utc(row.rollout_at),
            sc.IMPACT_ROLLOUT_VERDICT: row.verdict_kind,
            sc.IMPACT_ROLLOUT_PREFERRED: bool(row.preferred),
            **segment_attrs(row.segment),
            **_model_attrs(row.model, row.version),
        }
        add(sc.METRIC_IMPACT_ROLLOUT_EFFECT, row.estimate, attrs)
        lo, hi = _ci(row.ci)
        add(sc.METRIC_IMPACT_ROLLOUT_EFFECT_CI_LOW, lo, attrs)
        add(sc.METRIC_IMPACT_ROLLOUT_EFFECT_CI_HIGH, hi, attrs)
        add(sc.METRIC_IMPACT_ROLLOUT_EFFECT_PVALUE, row.pvalue, attrs)
        add(sc.METRIC_IMPACT_ROLLOUT_MDE, row.mde_relative, attrs)


def bucket_ends(buckets: Iterable[datetime], window_end_ns: int) -> list[int]:
    """End of each bucket (given by its start): the next start; the last one closes at start + step.

    A single bucket (no step to infer) ends at the window's end.
    """
    starts = [to_ns(b) for b in buckets]
    if not starts:
        return []
    ends = starts[1:]
    step = starts[-1] - starts[-2] if len(starts) >= 2 else window_end_ns - starts[-1]
    ends.append(starts[-1] + step if step > 0 else window_end_ns)
    return ends


_SEVERITY: dict[Severity, str] = {"critical": "ERROR", "warning": "WARN", "info": "INFO"}


def result_events(result: Result, *, run_id: str) -> list[ImpactEvent]:
    """``impact.alert`` and ``impact.incident`` events of a result."""
    window = result.window
    base: Attrs = {
        sc.IMPACT_RUN_ID: run_id,
        sc.IMPACT_WINDOW_START: iso_utc(window.start),
        sc.IMPACT_WINDOW_END: iso_utc(window.end),
    }
    out: list[ImpactEvent] = []
    for alert in result.alerts:
        attrs: Attrs = {
            **base,
            sc.IMPACT_ALERT_RULE: alert.rule,
            sc.IMPACT_ALERT_SEVERITY: alert.severity,
            sc.IMPACT_ALERT_STATE: alert.state,
        }
        for k, v in sorted(alert.attributes.items()):
            attrs.setdefault(k, v)
        out.append(
            ImpactEvent(
                sc.EVENT_IMPACT_ALERT, to_ns(alert.at), alert.message, _SEVERITY[alert.severity], attrs
            )
        )
    for inc in result.incidents:
        anomaly, linked = inc.anomaly, inc.linked
        attrs = {
            **base,
            sc.IMPACT_INCIDENT_METRIC: anomaly.metric,
            sc.IMPACT_INCIDENT_START: iso_utc(anomaly.start),
            sc.IMPACT_INCIDENT_END: iso_utc(anomaly.end),
            sc.IMPACT_INCIDENT_LINKED: ";".join(f"{r.pipeline}/{r.dataset}" for r in linked),
            **segment_attrs(anomaly.segment),
        }
        mag = _num(anomaly.magnitude)
        if mag is not None:
            attrs[sc.IMPACT_INCIDENT_MAGNITUDE] = mag
        body = f"{anomaly.metric} anomaly"
        if linked:
            body += f" linked to {linked[0].pipeline} ({linked[0].dataset})"
        out.append(ImpactEvent(sc.EVENT_IMPACT_INCIDENT, to_ns(anomaly.end), body, "WARN", attrs))
    return out
