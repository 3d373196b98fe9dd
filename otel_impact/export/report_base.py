"""Building blocks of the reports: :class:`Section`, :class:`Table` and value formatting.

>>> fmt(27210.5), fmt(0.0621), fmt(None), seg_label({})
('27,210.5', '0.0621', '–', 'all users')
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from otel_impact.export.points import parse_time


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]


@dataclass
class Section:
    id: str
    title: str
    tables: list[Table] = field(default_factory=list)
    charts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.tables or self.charts or self.notes)


def fmt(value: Any) -> str:
    """Human spelling of a result value (None/NaN → "–")."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "–"
        if abs(value) >= 1000:
            return f"{value:,.2f}".rstrip("0").rstrip(".")
        return f"{value:.4g}"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={fmt(v)}" for k, v in value.items()) or "all"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    return str(value)


def fmt_fields(row: Mapping[str, Any], *keys: str) -> list[str]:
    """:func:`fmt` of each of ``keys`` of ``row``, in order (table cells)."""
    return [fmt(row.get(k)) for k in keys]


def seg_label(segment: Any) -> str:
    return fmt(segment) if isinstance(segment, Mapping) and segment else "all users"


def rows_of(result: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = result.get(key)
    return [r for r in value if isinstance(r, Mapping)] if isinstance(value, list) else []


def num(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def ci_of(row: Mapping[str, Any]) -> tuple[float | None, float | None]:
    ci = row.get("ci")
    if isinstance(ci, list | tuple) and len(ci) >= 2:
        return num(ci[0]), num(ci[1])
    if isinstance(ci, Mapping):
        return num(ci.get("low")), num(ci.get("high"))
    return None, None


def generic_table(rows: Sequence[Mapping[str, Any]], limit: int = 50) -> Table:
    """All keys of a list of dicts as a table (nested values flattened to text)."""
    headers: list[str] = []
    for row in rows:
        for k in row:
            if k not in headers:
                headers.append(str(k))
    return Table(headers, [[fmt(row.get(h)) for h in headers] for row in rows[:limit]])


def epoch(value: Any) -> float | None:
    try:
        return parse_time(value).timestamp()
    except (ValueError, TypeError):
        return None


def normalise(values: Sequence[Any]) -> list[float | None]:
    nums = [num(v) for v in values]
    finite = [v for v in nums if v is not None]
    if not finite:
        return nums
    lo, hi = min(finite), max(finite)
    return [None if v is None else ((v - lo) / (hi - lo) if hi > lo else 0.5) for v in nums]
