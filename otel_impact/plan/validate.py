"""Pure checks of payloads against the tracking plan (no store, no numpy).

One set of rules serves three callers: the plan's own example payloads (``plan check`` first
validates the plan itself), a service's unit tests (:mod:`otel_impact.testing`, over the SDK's
in-memory exporters) and the store checks, whose SQL receives :data:`INT_PATTERN` and
:data:`DOUBLE_PATTERN` as parameters so "parses as the declared type" means the same everywhere.

Values stored by the Collector are strings; a string value conforms to ``int`` / ``double`` /
``bool`` when it parses as one. Typed values (what an SDK span carries before export) must have
the declared Python type (``bool`` is not an ``int``; an ``int`` is a fine ``double``).

>>> from otel_impact.config.contract import PlanEntry
>>> entry = PlanEntry.model_validate({"attributes": {
...     "business.value": {"type": "double", "required": True},
...     "business.currency": {"type": "enum", "values": ["EUR", "USD"]}}})
>>> [(v.kind, v.attribute) for v in check_payload(entry, {"business.currency": "GBP"})]
[('missing_required', 'business.value'), ('enum_violation', 'business.currency')]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from otel_impact import semconv
from otel_impact.config.contract import AttributeSpec, PlanEntry, TrackingPlan
from otel_impact.errors import ConfigError

INT_PATTERN = r"^[+-]?[0-9]+$"
DOUBLE_PATTERN = r"^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$|^[+-]?(nan|inf|infinity)$"
BOOL_VALUES = ("true", "false")
_INT = re.compile(INT_PATTERN)
_DOUBLE = re.compile(DOUBLE_PATTERN)

# attributes every span/event may carry without the plan declaring them
IMPLICIT_ATTRIBUTES = frozenset({semconv.EVENT_NAME, semconv.ML_MODEL_NAME})


@dataclass(frozen=True)
class Violation:
    """One attribute of one payload breaking the plan."""

    kind: str  # missing_required | wrong_type | enum_violation | undeclared_attribute
    attribute: str
    value: Any = None
    message: str = ""


def value_kind(spec: AttributeSpec, value: Any) -> str | None:
    """``None`` when ``value`` conforms to ``spec``, else ``"wrong_type"`` or ``"enum_violation"``.

    >>> value_kind(AttributeSpec(type="int"), "12"), value_kind(AttributeSpec(type="int"), "1.5")
    (None, 'wrong_type')
    """
    t = spec.type
    if isinstance(value, str):
        if t == "int":
            ok = bool(_INT.match(value))
        elif t == "double":
            ok = bool(_DOUBLE.match(value.lower()))
        elif t == "bool":
            ok = value in BOOL_VALUES
        else:
            ok = True
        if not ok:
            return "wrong_type"
        if t == "enum" and value not in spec.values:
            return "enum_violation"
        return None
    if isinstance(value, bool):
        if t == "bool":
            return None
        if t == "enum":
            return None if str(value).lower() in spec.values else "enum_violation"
        return "wrong_type"
    if isinstance(value, int):
        if t in ("int", "double"):
            return None
        if t == "enum":
            return None if str(value) in spec.values else "enum_violation"
        return "wrong_type"
    if isinstance(value, float):
        if t == "double":
            return None
        if t == "enum":
            return None if str(value) in spec.values else "enum_violation"
        return "wrong_type"
    return "wrong_type"  # sequences and anything else are not in the plan's type system


def check_payload(
    entry: PlanEntry, attributes: Mapping[str, Any], *, undeclared: bool = False
) -> list[Violation]:
    """Violations of one payload (span or event attributes) against its plan entry.

    ``undeclared=True`` also reports attributes the entry does not declare (segment attributes
    ``ml.segment.*`` and :data:`IMPLICIT_ATTRIBUTES` are always allowed).
    """
    out: list[Violation] = []
    for key, spec in entry.attributes.items():
        if key not in attributes:
            if spec.required:
                out.append(Violation("missing_required", key, None, f"required attribute {key!r} is missing"))
            continue
        kind = value_kind(spec, attributes[key])
        if kind == "wrong_type":
            msg = f"{key}={attributes[key]!r} is not a {spec.type}"
            out.append(Violation(kind, key, attributes[key], msg))
        elif kind == "enum_violation":
            msg = f"{key}={attributes[key]!r} is not one of {', '.join(spec.values)}"
            out.append(Violation(kind, key, attributes[key], msg))
    if undeclared:
        for key in attributes:
            if (
                key not in entry.attributes
                and key not in IMPLICIT_ATTRIBUTES
                and not key.startswith(semconv.ML_SEGMENT_PREFIX)
            ):
                msg = f"attribute {key!r} is not in the plan"
                out.append(Violation("undeclared_attribute", key, attributes[key], msg))
    return out


def matches(name: str, patterns: Iterable[str]) -> bool:
    """``name`` equals a pattern, or starts with a pattern's prefix before a trailing ``*``."""
    return any((p.endswith("*") and name.startswith(p[:-1])) or name == p for p in patterns)


def is_unknown(plan: TrackingPlan, kind: str, name: str) -> bool:
    """Whether an emitted ``kind`` (``"event"`` / ``"span"``) named ``name`` is unknown to the plan.

    Only a signal the plan covers can be unknown: with no ``predictions`` in the plan no model is
    unknown, with no ``events`` no event is; ``ignore_events`` patterns are never unknown.

    >>> plan = TrackingPlan.model_validate({"events": {"business.purchase": {}}})
    >>> is_unknown(plan, "event", "business.refund"), is_unknown(plan, "span", "ranker")
    (True, False)
    """
    if kind == "span":
        return bool(plan.predictions) and name not in plan.predictions
    return bool(plan.events) and name not in plan.events and not matches(name, plan.ignore_events)


@dataclass(frozen=True)
class PlanProblem:
    """A defect of the plan itself, at a dotted config path."""

    path: str
    message: str


def validate_plan(plan: TrackingPlan, prefix: str = "tracking_plan") -> list[PlanProblem]:
    """The plan's own consistency: every example payload conforms to its entry (no missing
    required attribute, no wrong type, no enum violation, no undeclared attribute)."""
    problems: list[PlanProblem] = []
    for group, entries in (("events", plan.events), ("predictions", plan.predictions)):
        for name, entry in entries.items():
            if entry.example is None:
                continue
            for v in check_payload(entry, entry.example, undeclared=True):
                path = f"{prefix}.{group}.{name}.example" + (
                    f".{v.attribute}" if v.kind != "missing_required" else ""
                )
                problems.append(PlanProblem(path, f"{v.kind}: {v.message}"))
    return problems


def load_plan(section: TrackingPlan, base_dir: str | Path | None = None) -> TrackingPlan:
    """The effective plan: ``section`` itself, or — with ``file`` — the events/predictions read
    from that YAML file (relative paths: against ``base_dir`` when it exists there, else the
    working directory) combined with ``section``'s check settings."""
    if section.file is None:
        return section
    path = Path(section.file)
    if not path.is_absolute() and base_dir is not None and (Path(base_dir) / path).exists():
        path = Path(base_dir) / path
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read the tracking plan file: {exc}", path="tracking_plan.file") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"tracking plan file is not valid YAML: {exc}", path="tracking_plan.file") from exc
    if not isinstance(data, dict):
        raise ConfigError("tracking plan file must be a mapping", path="tracking_plan.file")
    merged = section.model_dump(exclude={"file"}, exclude_defaults=True)
    merged.update(data)
    return plan_from_dict(merged, f"tracking_plan ({path})")


def plan_from_dict(data: Mapping[str, Any], source: str = "tracking_plan") -> TrackingPlan:
    """Validate a plan mapping; a :class:`ConfigError` names the dotted path."""
    from pydantic import ValidationError

    try:
        return TrackingPlan.model_validate(dict(data))
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"].removeprefix("Value error, ")
        raise ConfigError(msg, path=f"{source}.{loc}" if loc else source) from exc


__all__ = [
    "BOOL_VALUES",
    "DOUBLE_PATTERN",
    "INT_PATTERN",
    "PlanProblem",
    "Violation",
    "check_payload",
    "is_unknown",
    "load_plan",
    "matches",
    "plan_from_dict",
    "validate_plan",
]
