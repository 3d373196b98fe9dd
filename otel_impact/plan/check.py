"""Live telemetry against the tracking plan: ClickHouse aggregations over one window.

:func:`check_store` runs the ``sql/plan_*.sql`` queries (values as server-side parameters) over
``impact_events_typed`` (events), ``otel_traces`` (prediction-span attributes) and
``impact_predictions_typed`` (models, volume), and reports per check kind

* ``unknown_event`` — event names / models in the store but not in the plan (``ignore_events``
  patterns excepted), counted per name;
* ``deprecated_in_use`` — rows of an entry whose status is ``deprecated``;
* ``missing_required``, ``wrong_type`` (a stored string that does not parse as the declared
  type), ``enum_violation`` — rows, per attribute, with up to ``examples`` offending rows;
* ``cardinality`` — attributes with more distinct values than their cap;
* ``volume_drop`` / ``volume_spike`` — full buckets far below / above the entry's median bucket.

A kind whose total exceeds its tolerance fails the check (:attr:`PlanReport.ok`).
"""

from __future__ import annotations

import functools
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from otel_impact import semconv
from otel_impact.config.contract import PlanEntry, TrackingPlan, VolumeCheck
from otel_impact.plan.validate import DOUBLE_PATTERN, INT_PATTERN, PlanProblem, is_unknown, validate_plan
from otel_impact.store.client import StoreClient, dict_rows, query_text

_SQL = Path(__file__).parent / "sql"
KINDS = (
    "unknown_event",
    "deprecated_in_use",
    "missing_required",
    "wrong_type",
    "enum_violation",
    "cardinality",
    "volume_drop",
    "volume_spike",
)


@functools.cache
def _sql(name: str) -> str:
    return (_SQL / name).read_text(encoding="utf-8")


def _query(client: StoreClient, text: str, params: dict[str, Any], what: str) -> list[dict[str, Any]]:
    return dict_rows(query_text(client, text, params, doing=f"tracking plan check ({what})"))


@dataclass(frozen=True)
class PlanViolation:
    """One violated rule: ``count`` offending rows (attributes, buckets, names) of ``rows`` checked."""

    kind: str
    entry: str
    source: str  # "event" or "span"
    attribute: str | None
    count: int
    rows: int
    message: str
    examples: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "entry": self.entry,
            "source": self.source,
            "attribute": self.attribute,
            "count": self.count,
            "rows": self.rows,
            "rate": self.count / self.rows if self.rows else None,
            "message": self.message,
            "examples": list(self.examples),
        }


@dataclass
class PlanReport:
    """Result of one check: plan problems, violations, per-entry observations and the verdict."""

    start: datetime
    end: datetime
    plan: TrackingPlan
    problems: list[PlanProblem] = field(default_factory=list)
    violations: list[PlanViolation] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        out = dict.fromkeys(KINDS, 0)
        for v in self.violations:
            out[v.kind] = out.get(v.kind, 0) + v.count
        return out

    def exceeded(self) -> list[str]:
        """Kinds whose total is above its tolerance."""
        return [k for k, n in self.totals().items() if n > self.plan.tolerances.of(k)]

    @property
    def ok(self) -> bool:
        return not self.problems and not self.exceeded()

    def to_json(self) -> dict[str, Any]:
        exceeded = set(self.exceeded())
        return {
            "ok": self.ok,
            "window": {"start": self.start, "end": self.end},
            "plan_problems": [{"path": p.path, "message": p.message} for p in self.problems],
            "summary": {
                k: {"count": n, "tolerance": self.plan.tolerances.of(k), "exceeded": k in exceeded}
                for k, n in self.totals().items()
            },
            "violations": [v.to_json() for v in self.violations],
            "entries": self.entries,
        }


def _example(row: tuple[Any, ...], with_value: bool) -> dict[str, Any]:
    ts, trace_id, span_id, service, value = row
    out = {"ts": _aware(ts), "trace_id": trace_id, "span_id": span_id, "service": service}
    if with_value:
        out["value"] = value
    return out


def _attribute_checks(
    client: StoreClient,
    plan: TrackingPlan,
    source: str,
    entries: Mapping[str, PlanEntry],
    base: dict[str, Any],
) -> list[PlanViolation]:
    """One aggregation pass over all ``entries`` of ``source`` (grouped by name)."""
    names = [name for name, entry in entries.items() if entry.attributes]
    if not names:
        return []
    specs = {name: list(entries[name].attributes.items()) for name in names}
    params = {
        **base,
        "names": names,
        "keys": [[k for k, _ in specs[n]] for n in names],
        "types": [[s.type for _, s in specs[n]] for n in names],
        "required": [[int(s.required) for _, s in specs[n]] for n in names],
        "allowed": [[list(s.values) for _, s in specs[n]] for n in names],
        "int_re": INT_PATTERN,
        "double_re": DOUBLE_PATTERN,
    }
    if source == "span":
        params["model_key"] = semconv.ML_MODEL_NAME
    sub = _sql(f"plan_source_{source}s.sql").strip().rstrip(";")
    text = _sql("plan_attrs.sql").replace("{source}", sub)
    out: list[PlanViolation] = []
    for r in _query(client, text, params, f"{source} attributes"):
        name, n = str(r["name"]), int(r["n"])
        if name in specs and n:
            out.extend(_row_violations(plan, source, name, specs[name], r, n))
    return out


def _row_violations(
    plan: TrackingPlan, source: str, name: str, specs: list[tuple[str, Any]], r: Mapping[str, Any], n: int
) -> list[PlanViolation]:
    """Violations of one entry from its aggregated row ``r`` (``n`` rows checked)."""
    label = semconv.prediction_span_name(name) if source == "span" else name
    out: list[PlanViolation] = []
    k_ex = plan.examples
    for i, (key, spec) in enumerate(specs):
        checks = (
            (
                "missing_required",
                int(r["missing"][i]),
                r["ex_missing"][i],
                False,
                "required attribute missing",
            ),
            (
                "wrong_type",
                int(r["wrong"][i]),
                r["ex_wrong"][i],
                True,
                f"value does not parse as {spec.type}",
            ),
            (
                "enum_violation",
                int(r["enum_bad"][i]),
                r["ex_enum"][i],
                True,
                f"value not one of {', '.join(spec.values)}",
            ),
        )
        for kind, count, examples, with_value, msg in checks:
            if count:
                ex = tuple(_example(tuple(e), with_value) for e in list(examples)[:k_ex])
                out.append(PlanViolation(kind, label, source, key, count, n, f"{key}: {msg}", ex))
        cap = spec.max_cardinality or (plan.max_cardinality if spec.type != "enum" else None)
        distinct = int(r["distinct_values"][i])
        if cap is not None and distinct > cap:
            some = tuple({"value": v} for v in sorted(r["some_values"][i])[:k_ex])
            msg = f"{key}: about {distinct} distinct values, cap {cap}"
            out.append(PlanViolation("cardinality", label, source, key, 1, n, msg, some))
    return out


def volume_anomalies(
    counts: Mapping[int, int], n_buckets: int, rule: VolumeCheck
) -> list[tuple[int, int, float, str]]:
    """Full buckets ``0..n_buckets-1`` (missing = 0 rows) far from the median bucket count.

    Returns ``(bucket, count, median, "volume_drop" | "volume_spike")`` — empty when there are
    fewer than ``rule.min_buckets`` buckets or the median is under ``rule.min_count``.

    >>> volume_anomalies({0: 100, 1: 90, 2: 110, 3: 5, 4: 100}, 5, VolumeCheck())
    [(3, 5, 100, 'volume_drop')]
    """
    if n_buckets < rule.min_buckets:
        return []
    series = [int(counts.get(b, 0)) for b in range(n_buckets)]
    median = statistics.median(series)
    if median < rule.min_count:
        return []
    out = []
    for b, n in enumerate(series):
        if n < rule.drop * median:
            out.append((b, n, median, "volume_drop"))
        elif n > rule.spike * median:
            out.append((b, n, median, "volume_spike"))
    return out


def check_store(client: StoreClient, plan: TrackingPlan, start: datetime, end: datetime) -> PlanReport:
    """Validate the plan itself, then the stored telemetry of ``[start, end)`` against it."""
    report = PlanReport(start, end, plan, problems=validate_plan(plan))
    base = {"start": start, "end": end}
    seen = {(r["kind"], r["name"]): r for r in _query(client, _sql("plan_names.sql"), base, "names")}
    for (source, name), r in sorted(seen.items()):
        known = plan.events.get(name) if source == "event" else plan.predictions.get(name)
        if known is None and is_unknown(plan, source, name):
            label = semconv.prediction_span_name(name) if source == "span" else name
            ex = ({"ts": _aware(r["last_ts"]), "trace_id": r["last_trace_id"], "service": r["service"]},)
            msg = f"{r['n']} row(s) of {label!r}, which is not in the plan"
            report.violations.append(
                PlanViolation("unknown_event", label, source, None, 1, int(r["n"]), msg, ex)
            )
    for source, entries in (("event", plan.events), ("span", plan.predictions)):
        for name, entry in entries.items():
            obs = seen.get((source, name))
            rows = int(obs["n"]) if obs else 0
            label = semconv.prediction_span_name(name) if source == "span" else name
            report.entries.append(
                {
                    "name": label,
                    "source": source,
                    "status": entry.status,
                    "owner": entry.owner,
                    "rows": rows,
                    "last_seen": _aware(obs["last_ts"]) if obs else None,
                    "live": rows > 0,
                }
            )
            if not rows:
                continue
            if entry.status == "deprecated":
                msg = f"{rows} row(s) of deprecated {label!r}"
                report.violations.append(
                    PlanViolation("deprecated_in_use", label, source, None, rows, rows, msg)
                )
        observed = {name: e for name, e in entries.items() if (source, name) in seen}
        report.violations.extend(_attribute_checks(client, plan, source, observed, base))
    report.violations.extend(_volume_checks(client, plan, start, end))
    return report


def _volume_checks(
    client: StoreClient, plan: TrackingPlan, start: datetime, end: datetime
) -> list[PlanViolation]:
    rule = plan.volume
    events = [n for n, e in plan.events.items() if e.volume]
    models = [n for n, e in plan.predictions.items() if e.volume]
    n_buckets = int((end - start).total_seconds() // rule.bucket)
    if not (events or models) or n_buckets < rule.min_buckets:
        return []
    bucket_ns = int(rule.bucket * 1e9)
    start_ns = int(start.timestamp()) * 1_000_000_000 + start.microsecond * 1000
    params = {
        "start": start,
        "end": end,
        "start_ns": start_ns,
        "bucket_ns": bucket_ns,
        "events": events,
        "models": models,
    }
    counts: dict[tuple[str, str], dict[int, int]] = {}
    for r in _query(client, _sql("plan_volume.sql"), params, "volume"):
        counts.setdefault((r["kind"], r["name"]), {})[int(r["b"])] = int(r["n"])
    out: list[PlanViolation] = []
    for (source, name), per_bucket in sorted(counts.items()):
        label = semconv.prediction_span_name(name) if source == "span" else name
        total = sum(per_bucket.values())
        found = volume_anomalies(per_bucket, n_buckets, rule)
        for kind in ("volume_drop", "volume_spike"):
            hits = [h for h in found if h[3] == kind]
            if not hits:
                continue
            ex = tuple(
                {"bucket_start": _bucket_time(start, rule.bucket, b), "rows": n, "median": m}
                for b, n, m, _ in hits
            )[: plan.examples]
            msg = f"{len(hits)} bucket(s) of {rule.bucket:g}s {'below' if kind == 'volume_drop' else 'above'} the median"
            out.append(PlanViolation(kind, label, source, None, len(hits), total, msg, ex))
    return out


def _aware(ts: Any) -> Any:
    return ts.replace(tzinfo=UTC) if isinstance(ts, datetime) and ts.tzinfo is None else ts


def _bucket_time(start: datetime, bucket: float, b: int) -> datetime:
    return start + timedelta(seconds=bucket * b)


__all__ = ["KINDS", "PlanReport", "PlanViolation", "check_store", "volume_anomalies"]
