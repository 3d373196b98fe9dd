"""Test helper: assert that a service's own telemetry conforms to the tracking plan.

Use it in the service's unit tests. :func:`capture_telemetry` installs in-memory span and log
exporters (OTel SDK) behind a fresh :class:`~otel_impact.instrument.Instrumentation` — so
``track_prediction`` / ``record_business_event`` / … calls land there — and exposes the
providers for code that uses plain OTel tracers and loggers. :meth:`Captured.assert_conforms`
then checks every prediction span and every event against the plan (the same rules as
``otel-impact plan check``). Nothing here imports chDB, numpy or the store.

>>> from otel_impact.config.contract import TrackingPlan
>>> from otel_impact.instrument import get_instrumentation
>>> plan = TrackingPlan.model_validate({"events": {"business.purchase": {"attributes": {
...     "business.value": {"type": "double", "required": True}, "user.id": "string"}}}})
>>> with capture_telemetry() as tel:
...     get_instrumentation().record_business_event("purchase", value=12.5, user_id="u1")
>>> tel.assert_conforms(plan)
>>> [f.kind for f in tel.findings(TrackingPlan.model_validate({"events": {"business.refund": {}}}))]
['unknown_event']

As a pytest fixture (``conftest.py``: ``from otel_impact.testing import captured_telemetry``)::

    def test_checkout_emits_planned_events(captured_telemetry):
        checkout(cart)
        captured_telemetry.assert_conforms("tracking-plan.yaml")
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_impact import semconv
from otel_impact.config.contract import TrackingPlan
from otel_impact.config.model import ImpactConfig
from otel_impact.errors import ConfigError
from otel_impact.plan.validate import check_payload, is_unknown, load_plan, plan_from_dict

PlanLike = TrackingPlan | ImpactConfig | str | Path


@dataclass(frozen=True)
class Payload:
    """One emitted prediction span (``kind="span"``, ``name`` = model) or event."""

    kind: str
    name: str
    attributes: dict[str, Any]


@dataclass(frozen=True)
class Finding:
    """One way an emitted payload breaks the plan."""

    kind: str  # unknown_event | deprecated_in_use | missing_required | wrong_type | enum_violation | undeclared_attribute
    entry: str  # event name, or "predict <model>"
    attribute: str | None
    value: Any
    message: str

    def __str__(self) -> str:
        return f"{self.entry}: {self.kind}: {self.message}"


def as_plan(plan: PlanLike) -> TrackingPlan:
    """A :class:`TrackingPlan` from a plan, a whole config, or a YAML file holding either
    (an ``impact.yaml`` with a ``tracking_plan`` section, or a plan file itself)."""
    if isinstance(plan, TrackingPlan):
        return load_plan(plan)
    if isinstance(plan, ImpactConfig):
        return load_plan(plan.tracking_plan)
    path = Path(plan)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read tracking plan {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"tracking plan {path} must be a mapping")
    section = data.get("tracking_plan", data) if "tracking_plan" in data else data
    return load_plan(plan_from_dict(section or {}, f"tracking_plan ({path})"), path.parent)


def payload_findings(
    plan: TrackingPlan, payloads: list[Payload], *, undeclared: bool = False
) -> list[Finding]:
    """Findings of ``payloads`` against ``plan`` (pure: the core of :meth:`Captured.findings`)."""
    out: list[Finding] = []
    for p in payloads:
        if p.kind == "span":
            entry, label = plan.predictions.get(p.name), semconv.prediction_span_name(p.name)
        else:
            entry, label = plan.events.get(p.name), p.name
        if entry is None:
            if is_unknown(plan, p.kind, p.name):
                out.append(
                    Finding("unknown_event", label, None, None, f"{label!r} is not in the tracking plan")
                )
            continue
        if entry.status == "deprecated":
            out.append(
                Finding("deprecated_in_use", label, None, None, f"{label!r} is deprecated in the plan")
            )
        for v in check_payload(entry, p.attributes, undeclared=undeclared):
            out.append(Finding(v.kind, label, v.attribute, v.value, v.message))
    return out


@dataclass
class Captured:
    """What the code under test emitted, plus the providers it was captured through."""

    tracer_provider: TracerProvider
    logger_provider: LoggerProvider
    span_exporter: InMemorySpanExporter
    log_exporter: InMemoryLogRecordExporter

    def spans(self) -> list[ReadableSpan]:
        return list(self.span_exporter.get_finished_spans())

    def payloads(self) -> list[Payload]:
        """Prediction spans (those carrying ``ml.model.name``) and events (log records with an
        event name), in emission order per signal."""
        out: list[Payload] = []
        for span in self.spans():
            attrs = dict(span.attributes or {})
            model = attrs.get(semconv.ML_MODEL_NAME)
            if model:
                out.append(Payload("span", str(model), attrs))
        for data in self.log_exporter.get_finished_logs():
            record = data.log_record
            attrs = dict(record.attributes or {})
            name = getattr(record, "event_name", None) or attrs.get(semconv.EVENT_NAME)
            if name:
                out.append(Payload("event", str(name), attrs))
        return out

    def findings(self, plan: PlanLike, *, undeclared: bool = False) -> list[Finding]:
        """Every way the captured telemetry breaks ``plan`` (``undeclared``: also attributes the
        plan does not list)."""
        return payload_findings(as_plan(plan), self.payloads(), undeclared=undeclared)

    def assert_conforms(self, plan: PlanLike, *, undeclared: bool = False) -> None:
        """Raise ``AssertionError`` listing the findings (at most 20) when there are any."""
        found = self.findings(plan, undeclared=undeclared)
        if found:
            lines = [str(f) for f in found[:20]]
            more = f"\n… and {len(found) - 20} more" if len(found) > 20 else ""
            raise AssertionError(
                f"telemetry does not conform to the tracking plan ({len(found)} finding(s)):\n  "
                + "\n  ".join(lines)
                + more
            )

    def clear(self) -> None:
        self.span_exporter.clear()
        self.log_exporter.clear()


@contextmanager
def capture_telemetry(*, install: bool = True) -> Iterator[Captured]:
    """In-memory span and log exporters for the duration of the block.

    ``install=True`` makes a fresh :class:`~otel_impact.instrument.Instrumentation` on these
    providers the process default (restored to "rebuild from globals" afterwards), so the
    module-level instrumentation API reports here. Code using plain OTel APIs can be handed
    ``captured.tracer_provider`` / ``captured.logger_provider``.
    """
    from otel_impact.instrument import Instrumentation, Settings, set_instrumentation

    spans = InMemorySpanExporter()
    tp = TracerProvider(shutdown_on_exit=False)
    tp.add_span_processor(SimpleSpanProcessor(spans))
    logs = InMemoryLogRecordExporter()
    lp = LoggerProvider(shutdown_on_exit=False)
    lp.add_log_record_processor(SimpleLogRecordProcessor(logs))
    captured = Captured(tp, lp, spans, logs)
    if install:
        instr = Instrumentation(
            tracer_provider=tp,
            meter_provider=MeterProvider(shutdown_on_exit=False),
            logger_provider=lp,
            settings=Settings.from_env(),
        )
        set_instrumentation(instr)
    try:
        yield captured
    finally:
        if install:
            set_instrumentation(None)
        tp.force_flush()
        lp.force_flush()


def _fixture() -> Any:
    try:
        import pytest
    except ImportError:  # pragma: no cover - pytest is only needed by the fixture
        return None

    @pytest.fixture()
    def captured_telemetry() -> Iterator[Captured]:
        """Pytest fixture: :func:`capture_telemetry` around the test."""
        with capture_telemetry() as captured:
            yield captured

    return captured_telemetry


captured_telemetry = _fixture()


def assert_conforms(captured: Captured, plan: PlanLike, *, undeclared: bool = False) -> None:
    """Function form of :meth:`Captured.assert_conforms`."""
    captured.assert_conforms(plan, undeclared=undeclared)


__all__ = [
    "Captured",
    "Finding",
    "Payload",
    "as_plan",
    "assert_conforms",
    "capture_telemetry",
    "captured_telemetry",
    "payload_findings",
]
