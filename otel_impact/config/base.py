"""Config building blocks: a strict frozen base model and the duration type.

Every config section derives from :class:`Section`, which forbids unknown keys and freezes the
result. Durations are written the human way (``90s``, ``15m``, ``3d``, ``1w``) and parsed to
seconds.

>>> parse_duration("3d")
259200.0
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")

MAX_DURATION = 100 * 365 * 86400.0
"""Longest duration accepted anywhere (100 years): longer ones overflow date arithmetic."""
MIN_BUCKET = 1.0
"""Shortest time bucket (seconds): the store buckets by whole seconds."""
MAX_BUCKETS = 100_000
"""Most buckets one series may have in one run (window / bucket); bounds the run's memory."""


def parse_duration(value: Any) -> float:
    """Seconds in a duration such as ``"3d"``, ``"90m"`` or a bare number of seconds.

    >>> parse_duration("1.5h")
    5400.0
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a duration like '3d' or '15m', got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        match = _DURATION.match(value)
        if not match:
            raise ValueError(f"expected a duration like '3d', '12h', '15m' or '30s', got {value!r}")
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    else:
        raise ValueError(f"expected a duration like '3d' or '15m', got {value!r}")
    if not math.isfinite(seconds):
        raise ValueError(f"duration must be a finite number, got {value!r}")
    if seconds < 0:
        raise ValueError(f"duration must not be negative, got {value!r}")
    if seconds > MAX_DURATION:
        raise ValueError(f"duration {value!r} is longer than 100 years")
    return seconds


def format_duration(seconds: float) -> str:
    """Shortest exact spelling of ``seconds`` (inverse of :func:`parse_duration`)."""
    for unit in ("w", "d", "h", "m", "s"):
        size = _UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


Duration = Annotated[float, BeforeValidator(parse_duration), PlainSerializer(format_duration)]
"""A duration in seconds, written in config as ``"3d"``, ``"12h"``, ``"15m"``, ``"30s"``."""


PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
"""Names that become metric names and attribute values: letters, digits, ``_ . -``; no leading digit."""


def plain_name(v: str) -> str:
    """Field validator for a :data:`PLAIN_NAME` (reuse it with ``field_validator("name")(plain_name)``)."""
    if not PLAIN_NAME.match(v):
        raise ValueError(f"must be a plain identifier (letters, digits, _ . -), got {v!r}")
    return v


def positive_duration(v: float) -> float:
    """Field validator for a :data:`Duration` that must be above zero (reuse it with
    ``_positive = field_validator("bucket")(positive_duration)``)."""
    if v <= 0:
        raise ValueError("must be a positive duration")
    return v


def bucket_duration(v: float) -> float:
    """Field validator for a time bucket: at least :data:`MIN_BUCKET` (one second)."""
    if v < MIN_BUCKET:
        raise ValueError(f"a bucket must be at least {MIN_BUCKET:g}s, got {format_duration(v)}")
    return v


def check_bucket_count(span: float, bucket: float, what: str) -> str | None:
    """A message when ``span / bucket`` exceeds :data:`MAX_BUCKETS`, else None."""
    if bucket > 0 and span / bucket > MAX_BUCKETS:
        smallest = format_duration(float(math.ceil(span / MAX_BUCKETS)))
        return (
            f"{format_duration(bucket)} buckets over {what} of {format_duration(span)} make "
            f"{span / bucket:,.0f} buckets per series (at most {MAX_BUCKETS:,}); use a bucket of at "
            f"least {smallest}"
        )
    return None


class Section(BaseModel):
    """Base of every config section: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
