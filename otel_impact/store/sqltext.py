"""The one place SQL text is quoted or loaded from the ``sql/`` folder.

Values never go into SQL text: they are server-side parameters (``{start:DateTime64(9)}``).
These helpers exist for what cannot be a parameter — DDL identifiers and the semconv attribute
keys rendered into view definitions.

>>> quote_identifier("my db")
'`my db`'
>>> quote_string("it's")
"'it\\\\'s'"
"""

from __future__ import annotations

from functools import cache
from importlib import resources


def quote_identifier(name: str) -> str:
    """``name`` as a backtick-quoted ClickHouse identifier."""
    if not name or "\0" in name:
        raise ValueError(f"bad identifier {name!r}")
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def quote_string(value: str) -> str:
    """``value`` as a single-quoted ClickHouse string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@cache
def load_sql(name: str) -> str:
    """The text of ``otel_impact/store/sql/<name>`` (cached)."""
    return (resources.files("otel_impact.store") / "sql" / name).read_text(encoding="utf-8")
