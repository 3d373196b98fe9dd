"""Turn an analysis result document into ``impact.*`` points and events (pure, no I/O).

Every point is timestamped at the end of what it describes: a series value at its bucket's end,
a window-level estimate (correlation, lift, ROI …) at the analysed window's end. Every point and
event carries ``impact.run.id`` and the window (``impact.window.start`` / ``impact.window.end``),
so re-exports of the same bucket are recognisable and the deduplicated views keep the latest run.

>>> doc = {"window": {"start": "2026-11-01T00:00:00Z", "end": "2026-11-02T00:00:00Z"},
...        "roi": [{"ml.model.name": "rec", "ml.model.version": "2", "roi_pct": 40.0}]}
>>> [(p.name, p.value) for p in result_points(doc, run_id="r1")]
[('impact.roi', 40.0)]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from otel_impact import semconv as sc

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
    """An ISO-8601 string or datetime as an aware UTC datetime (naive = UTC)."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace(" ", "T", 1))
    else:
        raise ValueError(f"expected an ISO-8601 time, got {value!r}")
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def to_ns(value: Any) -> int:
    """Nanoseconds since the epoch of an ISO-8601 time / datetime."""
    dt = parse_time(value)
    return (int(dt.timestamp()) * 1_000_000_000) + dt.microsecond * 1000


def _num(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def segment_attrs(segment: Mapping[str, Any] | None) -> Attrs:
    """``ml.segment.<key>`` per key plus the joined ``impact.segment.key/value`` ({} = all users)."""
    seg = dict(segment or {})
    out: Attrs = {sc.segment_attribute(str(k)): str(v) for k, v in sorted(seg.items())}
    out[sc.IMPACT_SEGMENT_KEY] = ",".join(str(k) for k in sorted(seg)) or "all"
    out[sc.IMPACT_SEGMENT_VALUE] = ",".join(str(seg[k]) for k in sorted(seg)) or "all"
    return out


def _model_attrs(row: Mapping[str, Any], *, version: bool = False) -> Attrs:
    """``ml.model.name`` (and ``ml.model.version``) of a row, when it names them."""
    keys = (sc.ML_MODEL_NAME, sc.ML_MODEL_VERSION) if version else (sc.ML_MODEL_NAME,)
    return {k: str(row[k]) for k in keys if row.get(k) is not None}


def _kv(mapping: Any) -> str:
    if mapping is not None and not isinstance(mapping, Mapping):
        return str(mapping)
    return ",".join(f"{k}={v}" for k, v in sorted((mapping or {}).items()))


def _rows(doc: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = doc.get(key)
    if isinstance(value, list):
        return [r for r in value if isinstance(r, Mapping)]
    return []


def _ci(row: Mapping[str, Any]) -> tuple[float | None, float | None]:
    ci = row.get("ci")
    if isinstance(ci, list | tuple) and len(ci) >= 2:
        return _num(ci[0]), _num(ci[1])
    if isinstance(ci, Mapping):
        return _num(ci.get("low")), _num(ci.get("high"))
    return None, None


def result_points(doc: Mapping[str, Any], *, run_id: str) -> list[ImpactPoint]:
    """All ``impact.*`` gauge points of a result document (null/NaN values are skipped)."""
    window = doc.get("window") or {}
    if "end" not in window:
        return []
    end_ns = to_ns(window["end"])
    base: Attrs = {
        sc.IMPACT_RUN_ID: run_id,
        sc.IMPACT_WINDOW_START: str(window.get("start", "")),
        sc.IMPACT_WINDOW_END: str(window["end"]),
    }
    out: list[ImpactPoint] = []

    def add(name: str, value: Any, attrs: Attrs, ts: int = end_ns) -> None:
        v = _num(value)
        if v is not None:
            out.append(ImpactPoint(name, v, ts, {**base, **attrs}))

    best: dict[tuple[Any, ...], Mapping[str, Any]] = {}
    for row in _rows(doc, "correlations"):
        seg = segment_attrs(row.get("segment"))
        attrs: Attrs = {
            sc.IMPACT_MODEL_METRIC: str(row.get("model_metric", "")),
            sc.IMPACT_BUSINESS_METRIC: str(row.get("business_metric", "")),
            sc.IMPACT_METHOD: str(row.get("method", "")),
            sc.IMPACT_LAG_S: float(_num(row.get("lag_s")) or 0.0),
            **_model_attrs(row),
            **seg,
        }
        add(sc.METRIC_IMPACT_CORRELATION, row.get("estimate"), attrs)
        lo, hi = _ci(row)
        add(sc.METRIC_IMPACT_CORRELATION_CI_LOW, lo, attrs)
        add(sc.METRIC_IMPACT_CORRELATION_CI_HIGH, hi, attrs)
        add(sc.METRIC_IMPACT_CORRELATION_PVALUE, row.get("pvalue"), attrs)
        key = (
            attrs[sc.IMPACT_MODEL_METRIC],
            attrs[sc.IMPACT_BUSINESS_METRIC],
            str(row.get(sc.ML_MODEL_NAME, "")),
            _kv(row.get("segment")),
        )
        est = _num(row.get("estimate"))
        prev = best.get(key)
        if est is not None and (prev is None or abs(est) > abs(_num(prev.get("estimate")) or 0.0)):
            best[key] = row
    for (mm, bm, _, _), row in best.items():
        attrs = {
            sc.IMPACT_MODEL_METRIC: mm,
            sc.IMPACT_BUSINESS_METRIC: bm,
            **_model_attrs(row),
            **segment_attrs(row.get("segment")),
        }
        add(sc.METRIC_IMPACT_BEST_LAG, row.get("lag_s"), attrs)

    for row in _rows(doc, "transfer"):
        attrs = {
            sc.IMPACT_MODEL_METRIC: str(row.get("model_metric", "")),
            sc.IMPACT_BUSINESS_METRIC: str(row.get("business_metric", "")),
            sc.IMPACT_METHOD: str(row.get("method", "")),
            sc.IMPACT_LAG_S: float(_num(row.get("lag_s")) or 0.0),
            **_model_attrs(row),
            **segment_attrs(row.get("segment")),
        }
        add(sc.METRIC_IMPACT_TRANSFER_SLOPE, row.get("estimate"), attrs)

    for row in _rows(doc, "attribution"):
        attrs = {
            sc.IMPACT_BUSINESS_METRIC: str(row.get("business_metric", "")),
            sc.IMPACT_ATTRIBUTION_MODEL: str(row.get("model", "")),
            sc.ML_MODEL_NAME: str(row.get(sc.ML_MODEL_NAME, "")),
            sc.ML_MODEL_VERSION: str(row.get(sc.ML_MODEL_VERSION, "")),
            **segment_attrs(row.get("segment")),
        }
        add(sc.METRIC_IMPACT_ATTRIBUTED_VALUE, row.get("value"), attrs)
        add(sc.METRIC_IMPACT_ATTRIBUTED_CREDIT, row.get("credit"), attrs)

    for row in _rows(doc, "lift"):
        attrs = {
            sc.IMPACT_BUSINESS_METRIC: str(row.get("metric", "")),
            sc.IMPACT_TREATMENT: _kv(row.get("treatment")),
            sc.IMPACT_CONTROL: _kv(row.get("control")),
            sc.IMPACT_METHOD: str(row.get("method", "")),
            **segment_attrs(row.get("segment")),
        }
        add(sc.METRIC_IMPACT_LIFT, row.get("estimate"), attrs)
        lo, hi = _ci(row)
        add(sc.METRIC_IMPACT_LIFT_CI_LOW, lo, attrs)
        add(sc.METRIC_IMPACT_LIFT_CI_HIGH, hi, attrs)
        add(sc.METRIC_IMPACT_LIFT_PVALUE, row.get("pvalue"), attrs)

    for row in _rows(doc, "roi"):
        attrs = {
            sc.ML_MODEL_NAME: str(row.get(sc.ML_MODEL_NAME, "")),
            sc.ML_MODEL_VERSION: str(row.get(sc.ML_MODEL_VERSION, "")),
            sc.IMPACT_BUSINESS_METRIC: str(row.get("metric", "")),
            sc.IMPACT_TREATMENT: _kv(row.get("treatment")),
            sc.IMPACT_METHOD: str(row.get("method", "")),
        }
        add(sc.METRIC_IMPACT_ROI, row.get("roi_pct"), attrs)
        add(sc.METRIC_IMPACT_NET_BENEFIT, row.get("net_benefit"), attrs)

    _rollout_points(
        (doc.get("rollout_impact") or {}) if isinstance(doc.get("rollout_impact"), Mapping) else {}, add
    )
    for row in _rows(doc, "cost"):  # LLM cost per business outcome (stages/llm.py)
        attrs = {
            sc.IMPACT_BUSINESS_METRIC: str(row.get("business_metric", "")),
            sc.ML_MODEL_NAME: str(row.get(sc.ML_MODEL_NAME, "")),
            sc.IMPACT_ATTRIBUTION_MODEL: str(row.get("attribution_model", "")),
            **segment_attrs(row.get("segment")),
        }
        if row.get(sc.ML_MODEL_VERSION) is not None:
            attrs[sc.ML_MODEL_VERSION] = str(row[sc.ML_MODEL_VERSION])
        add(sc.METRIC_IMPACT_COST_TOTAL, row.get("cost"), attrs)
        add(sc.METRIC_IMPACT_COST_PER_OUTCOME, row.get("cost_per_outcome"), attrs)
        add(sc.METRIC_IMPACT_COST_PER_VALUE, row.get("cost_per_value"), attrs)
        for token_type in ("input", "output", "cached_input"):
            add(
                sc.METRIC_IMPACT_COST_TOKENS,
                row.get(f"{token_type}_tokens"),
                {**attrs, sc.IMPACT_COST_TOKEN_TYPE: token_type},
            )

    for row in _rows(doc, "series"):
        attrs = {
            sc.IMPACT_SERIES_NAME: str(row.get("name", "")),
            sc.IMPACT_SERIES_KIND: str(row.get("kind", "")),
            **_model_attrs(row, version=True),
            **segment_attrs(row.get("segment")),
        }
        if row.get("business_metric") is not None:
            attrs[sc.IMPACT_BUSINESS_METRIC] = str(row["business_metric"])
        for ts, value in zip(
            bucket_ends(row.get("buckets") or [], end_ns), row.get("values") or [], strict=False
        ):
            add(sc.METRIC_IMPACT_SERIES, value, attrs, ts)

    for row in _rows(doc, "evaluation"):
        attrs = {
            sc.IMPACT_EVALUATION_FEATURE: str(row.get("feature", "")),
            sc.IMPACT_EVALUATION_DECISION: str(row.get("decision", "")),
        }
        add(sc.METRIC_IMPACT_EVALUATION_OFFLINE, (row.get("offline") or {}).get("value"), attrs)
        add(sc.METRIC_IMPACT_EVALUATION_ONLINE, (row.get("online") or {}).get("value"), attrs)

    for row in _rows(doc, "slos"):
        attrs = {sc.IMPACT_SLO_NAME: str(row.get("name", "")), sc.IMPACT_SLO_KIND: str(row.get("sli", ""))}
        for target in (sc.ML_MODEL_NAME, sc.PIPELINE_NAME):
            if row.get(target) is not None:
                attrs[target] = str(row[target])
        add(sc.METRIC_IMPACT_SLO_SLI, row.get("estimate"), attrs)
        add(sc.METRIC_IMPACT_SLO_BUDGET_REMAINING, row.get("budget_remaining"), attrs)
        for w in row.get("windows") or []:
            if isinstance(w, Mapping):
                window_attrs = {**attrs, sc.IMPACT_SLO_WINDOW: str(w.get("window", ""))}
                add(sc.METRIC_IMPACT_SLO_BURN_RATE, w.get("burn_long"), window_attrs)
    return out


def _rollout_points(section: Mapping[str, Any], add: Any) -> None:
    """``impact.rollout.*`` points of the rollout-impact stage's effect rows."""
    for row in _rows(section, "effects"):
        attrs: Attrs = {
            sc.IMPACT_BUSINESS_METRIC: str(row.get("metric", "")),
            sc.IMPACT_METHOD: str(row.get("method", "")),
            sc.IMPACT_ROLLOUT_NAME: str(row.get("rollout", "")),
            sc.IMPACT_ROLLOUT_START: str(row.get("rollout_at", "")),
            sc.IMPACT_ROLLOUT_VERDICT: str(row.get("verdict_kind", "")),
            sc.IMPACT_ROLLOUT_PREFERRED: bool(row.get("preferred", False)),
            **segment_attrs(row.get("segment")),
        }
        for key, target in (("model", sc.ML_MODEL_NAME), ("version", sc.ML_MODEL_VERSION)):
            if row.get(key) is not None:
                attrs[target] = str(row[key])
        add(sc.METRIC_IMPACT_ROLLOUT_EFFECT, row.get("estimate"), attrs)
        lo, hi = _ci(row)
        add(sc.METRIC_IMPACT_ROLLOUT_EFFECT_CI_LOW, lo, attrs)
        add(sc.METRIC_IMPACT_ROLLOUT_EFFECT_CI_HIGH, hi, attrs)
        add(sc.METRIC_IMPACT_ROLLOUT_EFFECT_PVALUE, row.get("pvalue"), attrs)
        add(sc.METRIC_IMPACT_ROLLOUT_MDE, row.get("mde_relative"), attrs)


def bucket_ends(buckets: Iterable[Any], window_end_ns: int) -> list[int]:
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


_SEVERITY = {"critical": "ERROR", "error": "ERROR", "high": "ERROR", "warning": "WARN", "warn": "WARN"}


def result_events(doc: Mapping[str, Any], *, run_id: str) -> list[ImpactEvent]:
    """``impact.alert`` and ``impact.incident`` events of a result document."""
    window = doc.get("window") or {}
    base: Attrs = {
        sc.IMPACT_RUN_ID: run_id,
        sc.IMPACT_WINDOW_START: str(window.get("start", "")),
        sc.IMPACT_WINDOW_END: str(window.get("end", "")),
    }
    fallback = window.get("end")
    out: list[ImpactEvent] = []
    for row in _rows(doc, "alerts"):
        at = row.get("at") or fallback
        if at is None:
            continue
        severity = str(row.get("severity", "warning"))
        attrs: Attrs = {
            **base,
            sc.IMPACT_ALERT_RULE: str(row.get("rule", "")),
            sc.IMPACT_ALERT_SEVERITY: severity,
            sc.IMPACT_ALERT_STATE: str(row.get("state", "firing")),
        }
        for k, v in sorted((row.get("attributes") or {}).items()):
            attrs.setdefault(str(k), v if isinstance(v, str | int | float | bool) else str(v))
        out.append(
            ImpactEvent(
                sc.EVENT_IMPACT_ALERT,
                to_ns(at),
                str(row.get("message", row.get("rule", "alert"))),
                _SEVERITY.get(severity.lower(), "INFO"),
                attrs,
            )
        )
    for row in _rows(doc, "incidents"):
        anomaly = row.get("anomaly") or {}
        at = anomaly.get("end") or anomaly.get("start") or fallback
        if at is None:
            continue
        linked = [r for r in (row.get("linked") or []) if isinstance(r, Mapping)]
        attrs = {
            **base,
            sc.IMPACT_INCIDENT_METRIC: str(anomaly.get("metric", "")),
            sc.IMPACT_INCIDENT_START: str(anomaly.get("start", "")),
            sc.IMPACT_INCIDENT_END: str(anomaly.get("end", "")),
            sc.IMPACT_INCIDENT_LINKED: ";".join(
                f"{r.get(sc.PIPELINE_NAME, '')}/{r.get(sc.DATASET_NAME, '')}" for r in linked
            ),
            **segment_attrs(anomaly.get("segment") if isinstance(anomaly.get("segment"), Mapping) else {}),
        }
        mag = _num(anomaly.get("magnitude"))
        if mag is not None:
            attrs[sc.IMPACT_INCIDENT_MAGNITUDE] = mag
        top = linked[0] if linked else {}
        body = f"{anomaly.get('metric', 'metric')} anomaly" + (
            f" linked to {top.get(sc.PIPELINE_NAME, '?')} ({top.get(sc.DATASET_NAME, '?')})" if top else ""
        )
        out.append(ImpactEvent(sc.EVENT_IMPACT_INCIDENT, to_ns(at), body, "WARN", attrs))
    return out
