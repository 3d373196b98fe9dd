"""Building blocks of the reports: :class:`Section`, :class:`Table` and value formatting.

One spelling for every number in every output (HTML, Markdown, terminal, digest): thousands
separators above 1,000, no scientific notation for ordinary values, integers for counts, lags
and durations in hours or days, p-values as ``< 0.001`` below that, lifts as signed percentages.

>>> fmt(27210.5), fmt(0.0621), fmt(None), fmt(89150.0), seg_label({})
('27,210', '0.0621', '–', '89,150', 'all users')
>>> fmt_p(3.9e-99), fmt_p(0.1082), fmt_pct(0.2486), fmt_duration(172800), fmt_duration(43200)
('< 0.001', '0.11', '+24.9%', '2 days', '12 h')
>>> model_label("ranker", "v2"), model_label("recommender", "2"), model_label("ranker", None)
('ranker v2', 'recommender v2', 'ranker')
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from otel_impact.context import iso_utc
from otel_impact.records import Record

# tables longer than this are collapsed (HTML <details>) behind a one-line summary
COLLAPSE_ROWS = 12
MAX_CELL = 160  # characters; longer text is shortened at a word boundary


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    caption: str = ""  # shown above the table (and as the <details> summary when collapsed)
    collapse: bool | None = None  # None = collapse when longer than COLLAPSE_ROWS


@dataclass
class Section:
    id: str
    title: str
    tables: list[Table] = field(default_factory=list)
    charts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    headline: Any = None  # a headline.Headline for the first section (rendered by each renderer)

    @property
    def empty(self) -> bool:
        return not (self.tables or self.charts or self.notes or self.headline)


def fmt_num(value: Any) -> str:
    """A number for a reader: ``1,617,927`` / ``312.5`` / ``0.0621`` / ``3.1e-16``; None/NaN → "–"."""
    v = num(value)
    if v is None:
        return "–"
    if v == int(v) and abs(v) < 1e15:
        return f"{int(v):,}"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.1f}".removesuffix(".0")
    if a >= 0.001:
        return f"{v:.3g}" if a < 1 else f"{v:.4g}"
    return f"{v:.2g}"


def fmt_int(value: Any) -> str:
    v = num(value)
    return "–" if v is None else f"{round(v):,}"


def fmt_p(value: Any) -> str:
    """A p-value: two significant digits, ``< 0.001`` below that."""
    v = num(value)
    if v is None:
        return "–"
    return "< 0.001" if v < 0.001 else f"{v:.2g}"


def fmt_pct(value: Any, *, signed: bool = True, scale: float = 100.0) -> str:
    """A fraction as a percentage (``0.2486`` → ``+24.9%``); ``scale=1`` for values already in %."""
    v = num(value)
    if v is None:
        return "–"
    p = v * scale
    body = f"{p:,.0f}" if abs(p) >= 1000 else f"{p:.1f}"
    return ("+" if signed and p > 0 else "") + body + "%"


def fmt_r(value: Any) -> str:
    v = num(value)
    return "–" if v is None else f"{v:.2f}"


def fmt_ci(row: Record | Sequence[float | None] | None, spell: Callable[[Any], str] | None = None) -> str:
    """``[low, high]`` of a record's ``ci`` (or of a ``ci`` list) spelled by ``spell`` (default
    :func:`fmt_num`)."""
    lo, hi = ci_of(row)
    f = spell or fmt_num
    return "–" if lo is None or hi is None else f"[{f(lo)}, {f(hi)}]"


def fmt_duration(seconds: Any) -> str:
    """Seconds as days or hours (``172800`` → ``2 days``, ``43200`` → ``12 h``)."""
    v = num(seconds)
    if v is None:
        return "–"
    if v == 0:
        return "0 h"
    if v % 86400 == 0:
        d = int(v // 86400)
        return f"{d} day" + ("s" if d != 1 else "")
    if v >= 3600:
        return f"{v / 3600:g} h"
    return f"{v / 60:g} min"


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def fmt_time(value: datetime | str | None) -> str:
    """A time as ``2026-11-25`` (midnight) or ``2026-11-25 14:30`` (UTC); an ISO-8601 string is
    read too (the digest's run times)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace(" ", "T", 1))
        except ValueError:
            return fmt(value)
    if not isinstance(value, datetime):
        return fmt(value)
    t = _utc(value)
    return (
        t.strftime("%Y-%m-%d") if (t.hour, t.minute, t.second) == (0, 0, 0) else t.strftime("%Y-%m-%d %H:%M")
    )


def short(text: str, limit: int = MAX_CELL) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters (with "…")."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut + "…"


def fmt(value: Any) -> str:
    """Human spelling of a result value (None/NaN → "–"); never a raw array or dict."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return iso_utc(_utc(value))  # spelled as in the JSON result
    if isinstance(value, int | float):
        return fmt_num(value)
    if isinstance(value, Mapping):
        return short(", ".join(f"{k}={fmt(v)}" for k, v in value.items()) or "all")
    if isinstance(value, list | tuple):
        if len(value) > 4:
            return f"{len(value)} values"
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    return short(str(value))


def fmt_fields(row: Record, *fields: str) -> list[str]:
    """:func:`fmt` of each of ``fields`` of ``row``, in order (table cells)."""
    return [fmt(getattr(row, f)) for f in fields]


def seg_label(segment: Mapping[str, str] | None) -> str:
    if isinstance(segment, Mapping) and segment:
        return ", ".join(f"{k}={v}" for k, v in segment.items())
    return "all users"


def version_label(version: Any) -> str:
    """``2`` → ``v2``; ``v2`` / ``canary`` unchanged; missing → ``""``."""
    v = "" if version is None else str(version)
    return "v" + v if v[:1].isdigit() else v


def model_label(name: Any, version: Any = None) -> str:
    return " ".join(x for x in (str(name or "").strip(), version_label(version)) if x) or "–"


def num(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def ci_of(row: Record | Sequence[float | None] | None, key: str = "ci") -> tuple[float | None, float | None]:
    """``(low, high)`` of a record's ``key`` field (a ``ci`` list: ``[low, high]``), or of a ``ci``
    list itself; an undefined bound is ``None``."""
    ci = getattr(row, key) if isinstance(row, Record) else row
    if isinstance(ci, list | tuple) and len(ci) >= 2:
        return num(ci[0]), num(ci[1])
    return None, None


_CI_SOURCES = {
    "bootstrap-percentile": "a percentile bootstrap",
    "delta-log": "the delta method on the log of the ratio of means (large arms)",
}


def ci_source(methods: Iterable[str | None]) -> str:
    """How the lift rows' CIs were made, in words (``lift.ci_method``, one or both methods; rows
    read back from exported points do not carry it, so unknown says what the stage would do).

    >>> ci_source(["bootstrap-percentile", "bootstrap-percentile"])
    'a percentile bootstrap'
    """
    seen = sorted({m for m in methods if m})
    if not seen:
        return "a percentile bootstrap, or the delta method when both arms exceed lift.bootstrap_max_n users"
    return " or ".join(_CI_SOURCES.get(m, m) for m in seen)
