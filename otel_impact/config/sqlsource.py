"""Read-only SQL sources: one ``SELECT`` statement, checked when the config loads.

``impact.yaml`` may name queries the analyzer runs (``business_metrics[].source.sql``,
``identity.sql``, ``evaluation.features[].offline.sql``, ``tree`` ``source.sql``,
``series.custom[].sql``). Each must be a single ``SELECT`` (or ``WITH … SELECT``) query: the
text is lexed (string literals, quoted identifiers, heredocs and comments skipped) and a ``;``
followed by more text, unbalanced parentheses, an unterminated literal or comment, or a first
keyword other than ``SELECT``/``WITH`` is a :class:`~otel_impact.errors.ConfigError` naming the
dotted key. The store then splices the query into its own ``SELECT … FROM (<query>)`` and runs
it with :data:`READ_ONLY_SETTINGS`, so even a query that slipped through could not write.

>>> select_body("SELECT ts, user AS key FROM sales;  -- trailing ; is fine")
'SELECT ts, user AS key FROM sales'
>>> select_body("SELECT 1; DROP TABLE t")
Traceback (most recent call last):
...
ValueError: must be a single SELECT statement: found a second statement after ';' at character 9
"""

from __future__ import annotations

import re

from otel_impact.errors import ConfigError

READ_ONLY_SETTINGS: dict[str, int] = {"readonly": 2}
"""ClickHouse settings every SQL source runs with: ``readonly = 2`` refuses writes and DDL but
still lets a query carry its own settings (``readonly = 1`` would refuse those too)."""

_HEREDOC = re.compile(r"\$([A-Za-z0-9_]*)\$")
_FIRST_WORD = re.compile(r"[A-Za-z_]+")
_ALLOWED_FIRST = ("SELECT", "WITH")


def _skip(text: str, i: int) -> int | None:
    """Index after a literal/comment starting at ``i``, or None when ``text[i]`` starts none."""
    c = text[i]
    nxt = text[i + 1] if i + 1 < len(text) else ""
    if c in "'\"`":
        j = i + 1
        while j < len(text):
            if text[j] == "\\":
                j += 2
                continue
            if text[j] == c:
                if j + 1 < len(text) and text[j + 1] == c:  # doubled quote
                    j += 2
                    continue
                return j + 1
            j += 1
        raise ValueError(f"unterminated quoted text starting at character {i}")
    if (c == "-" and nxt == "-") or c == "#":
        end = text.find("\n", i)
        return len(text) if end < 0 else end + 1
    if c == "/" and nxt == "*":
        end = text.find("*/", i + 2)
        if end < 0:
            raise ValueError(f"unterminated /* comment starting at character {i}")
        return end + 2
    if c == "$":
        match = _HEREDOC.match(text, i)
        if match:
            end = text.find(match.group(0), match.end())
            if end < 0:
                raise ValueError(f"unterminated heredoc {match.group(0)} starting at character {i}")
            return end + len(match.group(0))
    return None


def _code(text: str) -> str:
    """``text`` with literals and comments blanked out (same length, so positions survive)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        end = _skip(text, i)
        if end is None:
            out.append(text[i])
            i += 1
        else:
            out.append(" " * (end - i))
            i = end
    return "".join(out)


def select_body(text: str) -> str:
    """The query of a SQL source without a trailing ``;``; ValueError unless it is one SELECT."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("SQL source is empty")
    if "\0" in text:
        raise ValueError("SQL source contains a NUL character")
    code = _code(text)
    semi = code.find(";")
    if semi >= 0:
        if code[semi + 1 :].strip():
            raise ValueError(
                f"must be a single SELECT statement: found a second statement after ';' at character {semi}"
            )
        text, code = text[:semi], code[:semi]
    depth = 0
    for pos, ch in enumerate(code):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced ')' at character {pos}")
    if depth:
        raise ValueError(f"{depth} unclosed '('")
    first = _FIRST_WORD.search(code.replace("(", " "))
    if first is None or first.group(0).upper() not in _ALLOWED_FIRST:
        word = first.group(0) if first else code.strip()[:20]
        raise ValueError(f"must be a read-only SELECT (or WITH … SELECT) query, not {word!r}")
    return text.strip()


def source_sql(text: str, path: str) -> str:
    """:func:`select_body` for splicing into ``FROM (…)``: framed by newlines so a trailing
    ``--`` comment cannot swallow the closing parenthesis; errors are ConfigErrors at ``path``."""
    try:
        return "\n" + select_body(text) + "\n"
    except ValueError as exc:
        raise ConfigError(str(exc), path=path) from exc


def checked_sql(v: str | None) -> str | None:
    """Field validator for an optional SQL source (reuse with ``field_validator("sql")(checked_sql)``)."""
    if v is not None:
        select_body(v)
    return v


__all__ = ["READ_ONLY_SETTINGS", "checked_sql", "select_body", "source_sql"]
