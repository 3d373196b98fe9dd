"""What Grafana and the ClickHouse datasource plugin do to a panel's SQL before it reaches the server.

Order (as in grafana/clickhouse-datasource): the frontend replaces ``$__conditionalAll(cond, $var)``
(``1=1`` when the variable is All or empty, else ``cond``), then template variables
(``${var:singlequote}``, ``${var}``, ``$var``, the globals ``$__from`` / ``$__to`` in ms), and the
backend expands its macros (pkg/macros/macros.go):

* ``$__timeFilter(c)`` → ``c >= toDateTime(<from s>) AND c <= toDateTime(<to s>)``
* ``$__timeFilter_ms(c)`` → the same with ``fromUnixTimestamp64Milli(<ms>)``
* ``$__dateFilter(c)`` → ``c >= toDate('YYYY-MM-DD') AND c <= toDate('…')``
* ``$__fromTime`` / ``$__toTime`` → ``toDateTime(<s>)``; ``_ms`` variants → ``fromUnixTimestamp64Milli``
* ``$__timeInterval(c)`` → ``toStartOfInterval(toDateTime(c), INTERVAL <n> second)``
* ``$__timeInterval_ms(c)`` → ``toStartOfInterval(toDateTime64(c, 3), INTERVAL <n> millisecond)``
* ``$__interval_s`` → ``<n>`` (the panel interval in whole seconds, at least 1)

Older plugin releases matched macro arguments with a non-greedy regex up to the first ``)``, so
this helper refuses macro arguments that contain parentheses or commas: a dashboard that passes
here expands identically on old and new plugin versions. Anything left that looks like a macro
or variable is an error, so a typo cannot slip through as literal text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

ALL = "$__all"

_VAR = re.compile(r"\$\{(\w+)(?::(\w+))?\}|\$(\w+)")
_MACRO = re.compile(r"\$__(\w+)")


@dataclass(frozen=True)
class Context:
    """Time range, panel interval and current variable values (a list for multi-value)."""

    start: datetime
    end: datetime
    interval_s: int
    variables: Mapping[str, str | Sequence[str]]


def _macro_args(sql: str, open_at: int) -> tuple[list[str], int]:
    """Comma-separated arguments of the bracket at ``open_at`` (nesting aware) and the index after it."""
    depth, args, cur = 0, [], []
    for i in range(open_at, len(sql)):
        ch = sql[i]
        if ch == "(":
            depth += 1
            if depth == 1:
                continue
        elif ch == ")":
            depth -= 1
            if depth == 0:
                args.append("".join(cur))
                return args, i + 1
        elif ch == "," and depth == 1:
            args.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    raise ValueError(f"unclosed macro bracket at {open_at}: {sql[open_at : open_at + 60]!r}")


def conditional_all(sql: str, variables: Mapping[str, str | Sequence[str]]) -> str:
    """The frontend's ``$__conditionalAll(condition, $var)``: ``1=1`` when ``$var`` is All/empty."""
    macro = "$__conditionalAll("
    at = sql.rfind(macro)
    while at != -1:
        args, after = _macro_args(sql, at + len(macro) - 1)
        if len(args) != 2:
            raise ValueError(f"$__conditionalAll takes 2 arguments, got {len(args)}")
        name = args[1].strip()
        if not re.fullmatch(r"\$\w+", name):
            raise ValueError(f"$__conditionalAll second argument must be a plain $variable: {name!r}")
        value = variables.get(name[1:])
        if value is None:
            raise ValueError(f"$__conditionalAll refers to an undefined variable {name}")
        flat = ",".join(value) if not isinstance(value, str) else value
        phrase = "1=1" if flat in ("", ALL) or (not isinstance(value, str) and ALL in value) else args[0]
        sql = sql[:at] + phrase + sql[after:]
        at = sql.rfind(macro)
    return sql


def _singlequote(value: str) -> str:
    return "'" + value.replace("'", "\\'") + "'"  # Grafana escapes quotes only


def _format(name: str, value: str | Sequence[str], fmt: str | None) -> str:
    values = [value] if isinstance(value, str) else list(value)
    if fmt == "singlequote":
        return ",".join(_singlequote(v) for v in values)
    if fmt in (None, "raw"):
        if len(values) != 1:
            raise ValueError(f"multi-value variable ${name} needs a format (use singlequote)")
        return values[0]
    raise ValueError(f"variable format {fmt!r} of ${name} is not supported here")


def replace_variables(sql: str, ctx: Context) -> str:
    """Grafana's template substitution (``$var``, ``${var}``, ``${var:fmt}``) plus ``$__from`` / ``$__to``."""
    glob = {
        "__from": str(int(ctx.start.timestamp() * 1000)),
        "__to": str(int(ctx.end.timestamp() * 1000)),
    }

    def sub(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(3)
        fmt = m.group(2)
        if name in glob:
            return glob[name]
        if name.startswith("__"):
            return m.group(0)  # a datasource macro, expanded later
        if name not in ctx.variables:
            raise ValueError(f"undefined template variable ${name}")
        value = ctx.variables[name]
        if value == ALL or (not isinstance(value, str) and ALL in value):
            raise ValueError(f"${name} is All here: guard it with $__conditionalAll")
        return _format(name, value, fmt)

    return _VAR.sub(sub, sql)


def expand_macros(sql: str, ctx: Context) -> str:
    """The backend macros of the ClickHouse datasource."""
    f, t = int(ctx.start.timestamp()), int(ctx.end.timestamp())
    fms, tms = int(ctx.start.timestamp() * 1000), int(ctx.end.timestamp() * 1000)
    n = max(int(ctx.interval_s), 1)
    plain = {
        "fromTime": f"toDateTime({f})",
        "toTime": f"toDateTime({t})",
        "fromTime_ms": f"fromUnixTimestamp64Milli({fms})",
        "toTime_ms": f"fromUnixTimestamp64Milli({tms})",
        "interval_s": str(n),
    }
    d0, d1 = ctx.start.astimezone(UTC).date().isoformat(), ctx.end.astimezone(UTC).date().isoformat()
    with_col = {
        "timeFilter": lambda c: f"{c} >= toDateTime({f}) AND {c} <= toDateTime({t})",
        "timeFilter_ms": lambda c: (
            f"{c} >= fromUnixTimestamp64Milli({fms}) AND {c} <= fromUnixTimestamp64Milli({tms})"
        ),
        "dateFilter": lambda c: f"{c} >= toDate('{d0}') AND {c} <= toDate('{d1}')",
        "timeInterval": lambda c: f"toStartOfInterval(toDateTime({c}), INTERVAL {n} second)",
        "timeInterval_ms": lambda c: (
            f"toStartOfInterval(toDateTime64({c}, 3), INTERVAL {n * 1000} millisecond)"
        ),
    }
    out: list[str] = []
    pos = 0
    for m in _MACRO.finditer(sql):
        if m.start() < pos:
            continue
        name = m.group(1)
        out.append(sql[pos : m.start()])
        if name in with_col:
            if m.end() >= len(sql) or sql[m.end()] != "(":
                raise ValueError(f"$__{name} needs a column argument")
            args, after = _macro_args(sql, m.end())
            if len(args) != 1 or not args[0].strip() or re.search(r"[(),]", args[0]):
                raise ValueError(f"$__{name} takes one plain column (no brackets, no commas): {args!r}")
            out.append(with_col[name](args[0].strip()))
            pos = after
        elif name in plain:
            out.append(plain[name])
            pos = m.end()
        else:
            raise ValueError(f"unknown macro $__{name}")
    out.append(sql[pos:])
    return "".join(out)


def render(sql: str, ctx: Context) -> str:
    """Panel SQL as the ClickHouse server receives it."""
    return expand_macros(replace_variables(conditional_all(sql, ctx.variables), ctx), ctx)
