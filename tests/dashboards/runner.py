"""Run every query of a dashboard JSON against a ClickHouse client, the way Grafana would.

Variables are resolved in their order on the dashboard (later ones may use earlier ones): the
``datasource`` variable is skipped, ``database`` is the client's database, a query variable runs
its SQL and takes its ``current`` default when the result offers it (else the first option), a
custom variable takes its ``current`` value. ``all_selected`` switches every variable that has an
All option to All, so the ``$__conditionalAll`` branches run too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tests.dashboards.grafana import ALL, Context, render


@dataclass(frozen=True)
class Query:
    """One SQL of a dashboard: where it sits and what it is."""

    where: str  # "panel 3 'title'", "annotation 'name'", "variable segment_key"
    kind: str  # panel type, "annotation" or "variable"
    fmt: int
    sql: str
    panel: dict[str, Any] | None = None


def queries(board: dict[str, Any]) -> Iterator[Query]:
    for var in board["templating"]["list"]:
        if var["type"] == "query":
            yield Query(f"variable {var['name']}", "variable", 1, var["query"]["rawSql"])
    for ann in board["annotations"]["list"]:
        if ann.get("builtIn"):
            continue
        yield Query(f"annotation {ann['name']!r}", "annotation", 1, ann["target"]["rawSql"])
    for panel in board["panels"]:
        for t in panel.get("targets", []):
            yield Query(
                f"panel {panel['id']} {panel['title']!r}", panel["type"], t["format"], t["rawSql"], panel
            )


def resolve_variables(
    board: dict[str, Any], client: Any, start: datetime, end: datetime, *, all_selected: bool = False
) -> dict[str, str | list[str]]:
    values: dict[str, str | list[str]] = {}
    for var in board["templating"]["list"]:
        name, kind = var["name"], var["type"]
        if kind == "datasource":
            continue
        if name == "database":
            values[name] = client.database
            continue
        default = (var.get("current") or {}).get("value")
        if isinstance(default, list):
            default = default[0] if default else None
        if kind == "custom":
            values[name] = default
            continue
        if var.get("includeAll") and all_selected:
            values[name] = ALL
            continue
        sql = render(var["query"]["rawSql"], Context(start, end, 60, values))
        options = [str(r[0]) for r in client.query(sql).result_rows]
        if default in options:
            values[name] = [default] if var.get("multi") else default
        elif options:
            values[name] = [options[0]] if var.get("multi") else options[0]
        else:
            values[name] = [""] if var.get("multi") else ""
    return values
