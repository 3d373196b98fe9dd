"""The building blocks of every result record: a frozen, closed pydantic model and the JSON types.

A record is immutable (``frozen``) and closed (``extra="forbid"``): a key no record declares is an
error where the result is built, not a value some reader silently misses. Keys that are OTel
attribute names (``ml.model.name``, ``pipeline.name`` …) keep their dotted spelling in JSON and
get a Python name (``model_name``, ``pipeline``). Times are aware ``datetime`` values inside the
process and ISO-8601 UTC strings (``2026-11-20T00:00:00Z``) in JSON; a number that was NaN or
infinite inside the process is ``null`` in JSON.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, PlainSerializer, ValidationError, WithJsonSchema

from otel_impact.context import iso_utc
from otel_impact.errors import AnalysisError


def _time_json(value: datetime) -> str:
    return iso_utc(value if value.tzinfo else value.replace(tzinfo=UTC))


def _number_json(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return value


Timestamp = Annotated[
    AwareDatetime,
    PlainSerializer(_time_json, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""An aware datetime; ``2026-11-20T00:00:00Z`` in JSON."""

Number = Annotated[
    float | None,
    PlainSerializer(_number_json, return_type=float | None),
    WithJsonSchema({"type": ["number", "null"]}),
]
"""A float that may be undefined: NaN/inf/None inside the process, ``null`` in JSON."""

Segment = dict[str, str]
"""Segment attributes of a row (``{"market": "de"}``); ``{}`` is the whole population."""


class Record(BaseModel):
    """Base of every result record: frozen, closed, dotted JSON keys by alias."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def to_json(self) -> dict[str, Any]:
        """The record as JSON types, keys spelled as in the published schema.

        Optional keys the producer did not set are left out, so a record read from JSON writes
        the same document back."""
        out = self.model_dump(mode="json", by_alias=True, exclude_unset=True)
        assert isinstance(out, dict)
        return out

    @classmethod
    def from_json(cls, doc: Any) -> Self:
        """Read a record from JSON types; :class:`AnalysisError` names every offending path."""
        try:
            return cls.model_validate(doc)
        except ValidationError as exc:
            raise AnalysisError(f"result does not match the {cls.__name__} record: {describe(exc)}") from exc


def describe(exc: ValidationError, limit: int = 8) -> str:
    """One line per problem (``alerts.3.severity: Input should be …``), at most ``limit``."""
    lines = []
    for err in exc.errors()[:limit]:
        path = ".".join(str(p) for p in err["loc"]) or "(root)"
        lines.append(f"{path}: {err['msg']}")
    more = exc.error_count() - limit
    if more > 0:
        lines.append(f"… and {more} more")
    return "; ".join(lines)
