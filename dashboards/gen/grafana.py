"""Small builders for Grafana dashboard JSON on the ClickHouse datasource plugin.

Every panel, annotation and query variable points at the dashboard's ``${datasource}`` variable
(type ``grafana-clickhouse-datasource``) and reads its tables from ``${database}``, a variable
listing the databases that hold otel-impact's views, so one dashboard serves several stores.
Panel ids are assigned in order by :class:`Board`, so they are unique per dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PLUGIN = "grafana-clickhouse-datasource"
DS = {"type": PLUGIN, "uid": "${datasource}"}
SCHEMA_VERSION = 39

# query formats of the plugin (src/types: Format)
TIMESERIES = 0
TABLE = 1


def target(sql: str, fmt: int, ref: str = "A") -> dict[str, Any]:
    """A raw-SQL query of the ClickHouse plugin."""
    return {
        "datasource": DS,
        "editorType": "sql",
        "format": fmt,
        "queryType": "timeseries" if fmt == TIMESERIES else "table",
        "rawSql": sql.strip(),
        "refId": ref,
    }


def datasource_var() -> dict[str, Any]:
    return {
        "name": "datasource",
        "label": "ClickHouse",
        "type": "datasource",
        "query": PLUGIN,
        "current": {},
        "hide": 0,
        "refresh": 1,
        "regex": "",
    }


def query_var(
    name: str,
    label: str,
    sql: str,
    *,
    multi: bool = False,
    include_all: bool = False,
    refresh: int = 1,
    default: str | None = None,
    hide: int = 0,
) -> dict[str, Any]:
    """A query variable (``refresh`` 1 = on load, 2 = on time-range change)."""
    current: dict[str, Any] = {}
    if default == "$__all":
        current = {
            "selected": True,
            "text": ["All"] if multi else "All",
            "value": ["$__all"] if multi else "$__all",
        }
    elif default is not None:
        current = {
            "selected": True,
            "text": [default] if multi else default,
            "value": [default] if multi else default,
        }
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DS,
        "definition": sql.strip(),
        "query": {"editorType": "sql", "rawSql": sql.strip(), "format": TABLE},
        "current": current,
        "multi": multi,
        "includeAll": include_all,
        "refresh": refresh,
        "sort": 1,
        "hide": hide,
        "regex": "",
        "options": [],
    }


def custom_var(name: str, label: str, options: list[tuple[str, str]], default: str) -> dict[str, Any]:
    """A fixed list (``text : value`` pairs)."""
    text = next(t for t, v in options if v == default)
    return {
        "name": name,
        "label": label,
        "type": "custom",
        "query": ",".join(f"{t} : {v}" for t, v in options),
        "current": {"selected": True, "text": text, "value": default},
        "options": [{"selected": v == default, "text": t, "value": v} for t, v in options],
        "multi": False,
        "includeAll": False,
        "hide": 0,
    }


DATABASE_VAR = query_var(
    "database",
    "Database",
    "SELECT database FROM system.tables WHERE name = 'impact_metrics_latest' ORDER BY database",
)


def annotation(name: str, sql: str, color: str, *, enable: bool = True) -> dict[str, Any]:
    """An annotation query: columns ``time`` (and ``timeEnd`` for a region), ``title``, ``text``, ``tags``."""
    return {
        "name": name,
        "datasource": DS,
        "enable": enable,
        "hide": False,
        "iconColor": color,
        "target": target(sql, TABLE),
    }


BUILTIN_ANNOTATION = {
    "builtIn": 1,
    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
    "enable": True,
    "hide": True,
    "iconColor": "rgba(0, 211, 255, 1)",
    "name": "Annotations & Alerts",
    "type": "dashboard",
}


def ci_band(low: str, high: str) -> list[dict[str, Any]]:
    """Field overrides that shade the area between two series (a confidence band)."""
    faint = {"id": "custom.lineWidth", "value": 0}
    return [
        {
            "matcher": {"id": "byName", "options": high},
            "properties": [
                {"id": "custom.fillBelowTo", "value": low},
                faint,
                {"id": "custom.fillOpacity", "value": 20},
            ],
        },
        {"matcher": {"id": "byName", "options": low}, "properties": [faint]},
    ]


def link_override(column: str, title: str, url: str) -> dict[str, Any]:
    """A data link on one table column (drill-down)."""
    return {
        "matcher": {"id": "byName", "options": column},
        "properties": [{"id": "links", "value": [{"title": title, "url": url}]}],
    }


def unit_override(column: str, unit: str) -> dict[str, Any]:
    """One table column in its own unit (e.g. a p-value in a table of percentages)."""
    return {"matcher": {"id": "byName", "options": column}, "properties": [{"id": "unit", "value": unit}]}


@dataclass
class Board:
    """A dashboard under construction: panels laid out left to right, top to bottom."""

    uid: str
    title: str
    description: str
    variables: list[dict[str, Any]]
    annotations: list[dict[str, Any]] = field(default_factory=list)
    time_from: str = "now-30d"
    panels: list[dict[str, Any]] = field(default_factory=list)
    _x: int = 0
    _y: int = 0
    _row_h: int = 0

    def _place(self, w: int, h: int) -> dict[str, int]:
        if self._x + w > 24:
            self._x, self._y, self._row_h = 0, self._y + self._row_h, 0
        pos = {"x": self._x, "y": self._y, "w": w, "h": h}
        self._x += w
        self._row_h = max(self._row_h, h)
        return pos

    def row(self, title: str) -> None:
        if self._x:
            self._x, self._y, self._row_h = 0, self._y + self._row_h, 0
        self.panels.append(
            {
                "type": "row",
                "title": title,
                "id": len(self.panels) + 1,
                "collapsed": False,
                "gridPos": {"x": 0, "y": self._y, "w": 24, "h": 1},
                "panels": [],
            }
        )
        self._y += 1

    def panel(
        self,
        kind: str,
        title: str,
        sql: str,
        *,
        fmt: int | None = None,
        description: str = "",
        unit: str | None = None,
        w: int = 12,
        h: int = 8,
        overrides: list[dict[str, Any]] | None = None,
        options: dict[str, Any] | None = None,
        custom: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Add a panel of ``kind`` (timeseries, table, stat, barchart, bargauge) with one SQL query."""
        if fmt is None:
            fmt = TIMESERIES if kind == "timeseries" else TABLE
        defaults: dict[str, Any] = {}
        if unit:
            defaults["unit"] = unit
        if custom:
            defaults["custom"] = custom
        panel = {
            "id": len(self.panels) + 1,
            "type": kind,
            "title": title,
            "description": description,
            "datasource": DS,
            "gridPos": self._place(w, h),
            "fieldConfig": {"defaults": defaults, "overrides": overrides or []},
            "options": options or {},
            "targets": [target(sql, fmt)],
        }
        self.panels.append(panel)
        return panel

    def to_json(self) -> dict[str, Any]:
        return {
            "__requires": [
                {"type": "grafana", "id": "grafana", "name": "Grafana", "version": ">=11.0.0"},
                {"type": "datasource", "id": PLUGIN, "name": "ClickHouse", "version": ">=4.0.0"},
            ],
            "uid": self.uid,
            "title": self.title,
            "description": self.description,
            "tags": ["otel-impact", "clickhouse"],
            "editable": True,
            "graphTooltip": 1,
            "id": None,
            "schemaVersion": SCHEMA_VERSION,
            "version": 1,
            "refresh": "5m",
            "time": {"from": self.time_from, "to": "now"},
            "timepicker": {},
            "timezone": "utc",
            "links": [
                {
                    "type": "dashboards",
                    "tags": ["otel-impact"],
                    "asDropdown": True,
                    "title": "otel-impact",
                    "includeVars": False,
                    "keepTime": True,
                }
            ],
            "annotations": {"list": [BUILTIN_ANNOTATION, *self.annotations]},
            "templating": {"list": [datasource_var(), DATABASE_VAR, *self.variables]},
            "panels": self.panels,
        }
