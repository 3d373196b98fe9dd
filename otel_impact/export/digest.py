"""Review digests (daily / weekly / monthly) in Markdown, read from the stored results.

A digest never re-runs the analysis: it reads what the job exported — the deduplicated
``impact_metrics_latest`` / ``impact_events_latest`` views and the job's run log
``impact_job_state`` — so it shows exactly what the dashboards show. Three parts: operational
(job health, freshness, alerts, incidents), product + model (series this period vs the previous
one, correlations, transfer, evaluation decisions) and business (attributed value, lift, ROI).
The cadence picks the period and which part leads: daily → operational, weekly → product +
model, monthly → business.

>>> PERIODS["weekly"]
604800
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from otel_impact import semconv as sc
from otel_impact.config.model import ImpactConfig
from otel_impact.errors import ConfigError, StoreError
from otel_impact.export.report_data import Table, fmt
from otel_impact.export.report_md import md_table
from otel_impact.store.failures import first_line

PERIODS = {"daily": 86400, "weekly": 7 * 86400, "monthly": 30 * 86400}
_SQL = Path(__file__).resolve().parent.parent / "store" / "sql"
_WINDOW_METRICS = [
    sc.METRIC_IMPACT_CORRELATION,
    sc.METRIC_IMPACT_CORRELATION_CI_LOW,
    sc.METRIC_IMPACT_CORRELATION_CI_HIGH,
    sc.METRIC_IMPACT_CORRELATION_PVALUE,
    sc.METRIC_IMPACT_BEST_LAG,
    sc.METRIC_IMPACT_TRANSFER_SLOPE,
    sc.METRIC_IMPACT_ATTRIBUTED_VALUE,
    sc.METRIC_IMPACT_ATTRIBUTED_CREDIT,
    sc.METRIC_IMPACT_LIFT,
    sc.METRIC_IMPACT_LIFT_CI_LOW,
    sc.METRIC_IMPACT_LIFT_CI_HIGH,
    sc.METRIC_IMPACT_LIFT_PVALUE,
    sc.METRIC_IMPACT_ROI,
    sc.METRIC_IMPACT_NET_BENEFIT,
    sc.METRIC_IMPACT_EVALUATION_ONLINE,
    sc.METRIC_IMPACT_EVALUATION_OFFLINE,
]


def _query(client: Any, name: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    text = (_SQL / f"{name}.sql").read_text(encoding="utf-8")
    try:
        return list(client.query(text, parameters=params).result_rows)
    except Exception as exc:
        raise StoreError(f"digest: {name}: {first_line(exc)}; run `otel-impact schema apply` first?") from exc


def _seg(attrs: dict[str, str]) -> str:
    key, value = attrs.get(sc.IMPACT_SEGMENT_KEY, "all"), attrs.get(sc.IMPACT_SEGMENT_VALUE, "all")
    return "all users" if key == "all" else f"{key}={value}"


def _group(rows: list[tuple[Any, ...]], names: list[str], keys: list[str]) -> list[dict[str, Any]]:
    """Join the rows of several metrics that share attributes ``keys`` into one dict per key set."""
    out: dict[tuple[str, ...], dict[str, Any]] = {}
    for metric, attrs, value, _at in rows:
        if metric not in names:
            continue
        k = tuple(attrs.get(x, "") for x in keys)
        entry = out.setdefault(k, {"attrs": attrs})
        entry.setdefault(metric, value)
    return list(out.values())


def _operational(client: Any, config: ImpactConfig, since: datetime, now: datetime) -> list[str]:
    lines = ["## Operational", ""]
    runs = _query(client, "job_runs", {"job": config.job.name, "since": since, "limit": 1000})
    ok = [r for r in runs if r[1] == "ok"]
    unexported = [r for r in runs if r[1] == "not_exported"]  # --no-export: not a failure
    failed = [r for r in runs if r[1] not in ("ok", "not_exported")]
    lines.append(
        f"- analyzer runs: {len(ok)} ok, {len(failed)} failed"
        + (f", {len(unexported)} not exported" if unexported else "")
        + f" (job `{config.job.name}`)"
    )
    if ok:
        wm = ok[0][3].replace(tzinfo=UTC) if ok[0][3].tzinfo is None else ok[0][3]
        lag_h = (now - wm).total_seconds() / 3600
        lines.append(f"- watermark {wm:%Y-%m-%d %H:%M} UTC ({lag_h:.1f} h behind); last run `{ok[0][0]}`")
    else:
        lines.append("- **no successful run in this period**")
    if failed:
        lines.append(f"- last failure: {failed[0][1]}: {failed[0][9][:200] or '(no message)'}")
    events = _query(client, "digest_events", {"since": since, "until": now})
    alerts = [e for e in events if e[0] == sc.EVENT_IMPACT_ALERT]
    incidents = [e for e in events if e[0] == sc.EVENT_IMPACT_INCIDENT]
    lines += [f"- alerts: {len(alerts)}; incidents: {len(incidents)}", ""]
    if events:
        lines += [
            md_table(
                Table(
                    ["at", "event", "severity", "what"],
                    [[f"{e[1]:%Y-%m-%d %H:%M}", e[0], e[2], e[3]] for e in events[:20]],
                )
            ),
            "",
        ]
    return lines


def _product(client: Any, rows: list[tuple[Any, ...]], since: datetime, now: datetime) -> list[str]:
    lines = ["## Product and model", ""]
    mid = since
    prev_since = since - (now - since)
    series = _query(
        client,
        "digest_series",
        {
            "name_key": sc.IMPACT_SERIES_NAME,
            "kind_key": sc.IMPACT_SERIES_KIND,
            "segment_key": sc.IMPACT_SEGMENT_KEY,
            "all_segments": "all",
            "metric": sc.METRIC_IMPACT_SERIES,
            "since": prev_since,
            "until": now,
            "mid": mid,
        },
    )
    if series:
        table = []
        for name, kind, cur, prev, n in series:
            change = (cur - prev) / abs(prev) * 100 if prev and prev == prev and cur == cur else None
            table.append(
                [name, kind, fmt(cur), fmt(prev), fmt(change) + ("%" if change is not None else ""), str(n)]
            )
        lines += [
            md_table(Table(["series", "kind", "this period", "previous", "change", "buckets"], table)),
            "",
        ]
    corr_keys = [
        sc.IMPACT_MODEL_METRIC,
        sc.IMPACT_BUSINESS_METRIC,
        sc.IMPACT_SEGMENT_KEY,
        sc.IMPACT_SEGMENT_VALUE,
        sc.IMPACT_LAG_S,
        sc.IMPACT_METHOD,
    ]
    corr = _group(
        rows,
        [
            sc.METRIC_IMPACT_CORRELATION,
            sc.METRIC_IMPACT_CORRELATION_CI_LOW,
            sc.METRIC_IMPACT_CORRELATION_CI_HIGH,
            sc.METRIC_IMPACT_CORRELATION_PVALUE,
        ],
        corr_keys,
    )
    if corr:
        lines += [
            md_table(
                Table(
                    ["model → business", "segment", "lag (s)", "r", "CI", "p"],
                    [
                        [
                            f"{c['attrs'].get(sc.IMPACT_MODEL_METRIC)} → {c['attrs'].get(sc.IMPACT_BUSINESS_METRIC)}",
                            _seg(c["attrs"]),
                            c["attrs"].get(sc.IMPACT_LAG_S, ""),
                            fmt(c.get(sc.METRIC_IMPACT_CORRELATION)),
                            f"[{fmt(c.get(sc.METRIC_IMPACT_CORRELATION_CI_LOW))}, {fmt(c.get(sc.METRIC_IMPACT_CORRELATION_CI_HIGH))}]",
                            fmt(c.get(sc.METRIC_IMPACT_CORRELATION_PVALUE)),
                        ]
                        for c in corr
                    ],
                )
            ),
            "",
        ]
    evals = _group(
        rows,
        [sc.METRIC_IMPACT_EVALUATION_ONLINE, sc.METRIC_IMPACT_EVALUATION_OFFLINE],
        [sc.IMPACT_EVALUATION_FEATURE],
    )
    for e in evals:
        lines.append(
            f"- feature `{e['attrs'].get(sc.IMPACT_EVALUATION_FEATURE)}`: "
            f"{e['attrs'].get(sc.IMPACT_EVALUATION_DECISION, '?')} (offline "
            f"{fmt(e.get(sc.METRIC_IMPACT_EVALUATION_OFFLINE))}, online {fmt(e.get(sc.METRIC_IMPACT_EVALUATION_ONLINE))})"
        )
    if len(lines) == 2:
        lines += ["_no data_", ""]
    return lines + ([""] if evals else [])


def _business(rows: list[tuple[Any, ...]]) -> list[str]:
    lines = ["## Business", ""]
    attr_keys = [
        sc.IMPACT_BUSINESS_METRIC,
        sc.IMPACT_ATTRIBUTION_MODEL,
        sc.ML_MODEL_NAME,
        sc.ML_MODEL_VERSION,
        sc.IMPACT_SEGMENT_KEY,
        sc.IMPACT_SEGMENT_VALUE,
    ]
    attributed = _group(
        rows, [sc.METRIC_IMPACT_ATTRIBUTED_VALUE, sc.METRIC_IMPACT_ATTRIBUTED_CREDIT], attr_keys
    )
    if attributed:
        lines += [
            md_table(
                Table(
                    ["business metric", "attribution", "model", "segment", "value", "credit"],
                    [
                        [
                            a["attrs"].get(sc.IMPACT_BUSINESS_METRIC, ""),
                            a["attrs"].get(sc.IMPACT_ATTRIBUTION_MODEL, ""),
                            f"{a['attrs'].get(sc.ML_MODEL_NAME, '')} v{a['attrs'].get(sc.ML_MODEL_VERSION, '')}",
                            _seg(a["attrs"]),
                            fmt(a.get(sc.METRIC_IMPACT_ATTRIBUTED_VALUE)),
                            fmt(a.get(sc.METRIC_IMPACT_ATTRIBUTED_CREDIT)),
                        ]
                        for a in attributed
                    ],
                )
            ),
            "",
        ]
    lift = _group(
        rows,
        [
            sc.METRIC_IMPACT_LIFT,
            sc.METRIC_IMPACT_LIFT_CI_LOW,
            sc.METRIC_IMPACT_LIFT_CI_HIGH,
            sc.METRIC_IMPACT_LIFT_PVALUE,
        ],
        [
            sc.IMPACT_BUSINESS_METRIC,
            sc.IMPACT_TREATMENT,
            sc.IMPACT_CONTROL,
            sc.IMPACT_SEGMENT_KEY,
            sc.IMPACT_SEGMENT_VALUE,
        ],
    )
    if lift:
        lines += [
            md_table(
                Table(
                    ["metric", "treatment vs control", "segment", "lift", "CI", "p"],
                    [
                        [
                            x["attrs"].get(sc.IMPACT_BUSINESS_METRIC, ""),
                            f"{x['attrs'].get(sc.IMPACT_TREATMENT, '')} vs {x['attrs'].get(sc.IMPACT_CONTROL, '')}",
                            _seg(x["attrs"]),
                            fmt(x.get(sc.METRIC_IMPACT_LIFT)),
                            f"[{fmt(x.get(sc.METRIC_IMPACT_LIFT_CI_LOW))}, {fmt(x.get(sc.METRIC_IMPACT_LIFT_CI_HIGH))}]",
                            fmt(x.get(sc.METRIC_IMPACT_LIFT_PVALUE)),
                        ]
                        for x in lift
                    ],
                )
            ),
            "",
        ]
    roi = _group(
        rows, [sc.METRIC_IMPACT_ROI, sc.METRIC_IMPACT_NET_BENEFIT], [sc.ML_MODEL_NAME, sc.ML_MODEL_VERSION]
    )
    if roi:
        lines += [
            md_table(
                Table(
                    ["model", "ROI", "net benefit"],
                    [
                        [
                            f"{r['attrs'].get(sc.ML_MODEL_NAME, '')} v{r['attrs'].get(sc.ML_MODEL_VERSION, '')}",
                            fmt(r.get(sc.METRIC_IMPACT_ROI)) + "%",
                            fmt(r.get(sc.METRIC_IMPACT_NET_BENEFIT)),
                        ]
                        for r in roi
                    ],
                )
            ),
            "",
        ]
    if len(lines) == 2:
        lines += ["_no data_", ""]
    return lines


def build_digest(client: Any, config: ImpactConfig, period: str, now: datetime | None = None) -> str:
    """The Markdown digest for ``period`` (daily / weekly / monthly) ending at ``now``."""
    if period not in PERIODS:
        raise ConfigError(f"must be one of {', '.join(PERIODS)}, got {period!r}", path="--period")
    now = (now or datetime.now(UTC)).astimezone(UTC)
    since = now - timedelta(seconds=PERIODS[period])
    rows = _query(client, "digest_metrics", {"since": since, "until": now, "names": _WINDOW_METRICS})
    parts: dict[str, Callable[[], list[str]]] = {
        "operational": lambda: _operational(client, config, since, now),
        "product": lambda: _product(client, rows, since, now),
        "business": lambda: _business(rows),
    }
    order = {
        "daily": ["operational", "product", "business"],
        "weekly": ["product", "business", "operational"],
        "monthly": ["business", "product", "operational"],
    }[period]
    head = [f"# otel-impact {period} digest", "", f"{since:%Y-%m-%d %H:%M} .. {now:%Y-%m-%d %H:%M} UTC", ""]
    body: list[str] = []
    for part in order:
        body += parts[part]()
    return "\n".join(head + body).rstrip() + "\n"
