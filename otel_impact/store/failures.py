"""Translate driver and engine exceptions into :class:`~otel_impact.errors.StoreError`.

Callers get one error type with the table (and the column, when the engine names one) in
the message; the original exception stays chained as ``__cause__``.

>>> str(store_error(RuntimeError("No such column Foo in table"), "cannot read x", table="x"))
'cannot read x (column Foo): No such column Foo in table'
"""

from __future__ import annotations

import re

from otel_impact.errors import StoreError

_COLUMN_IN_MESSAGE = re.compile(r"(?:column|Column)\s+[`'\"]?([\w.]+)[`'\"]?")


def store_error(exc: BaseException, doing: str, *, table: str | None = None) -> StoreError:
    """Translate a driver/engine exception into one StoreError naming the table and column."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    parts = [doing]
    column = _COLUMN_IN_MESSAGE.search(text)
    if column and table:
        parts.append(f"(column {column.group(1)})")
    if "UNKNOWN_TABLE" in text or "does not exist" in text:
        parts.append("— run `otel-impact schema apply` first")
    return StoreError(" ".join(parts) + f": {text[:300]}")


def first_line(exc: BaseException, limit: int = 400) -> str:
    """The first line of a driver error's message (its type name when empty), cut to ``limit``.

    Engine messages carry a stack trace after the first line; reports and CLI output want one line.

    >>> first_line(RuntimeError("Code: 60. Unknown table\\nStack trace: ..."))
    'Code: 60. Unknown table'
    """
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:limit]
