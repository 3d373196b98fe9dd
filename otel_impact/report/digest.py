"""Review digests (daily / weekly / monthly) in Markdown, read from the stored results.

A digest never re-runs the analysis: it reads what the job exported — the deduplicated
``impact_metrics_latest`` / ``impact_events_latest`` views and the job's run log
``impact_job_state`` — so it shows exactly what the dashboards show. It opens with the same
headline as the report and the terminal summary (:func:`otel_impact.report.headline.build_headline`,
applied to the stored results), then three parts: operational (job health, alerts and incidents
— critical first, resolved ones marked — ), product + model (series this period vs the previous
one, correlations, evaluation decisions) and business (attributed value, lift, ROI). Series
values are for the period named; window-level estimates (correlation, lift, attribution, ROI)
come from the latest analysis run in the period and the digest names the window they cover.
The cadence picks the period and which part leads: daily → operational, weekly → product +
model, monthly → business.

>>> PERIODS["weekly"]
604800
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from otel_impact import semconv as sc
from otel_impact.config.model import ImpactConfig
from otel_impact.context import parse_iso
from otel_impact.errors import ConfigError
from otel_impact.records import (
    Alert,
    Anomaly,
    Attribution,
    Correlation,
    Incident,
    Lift,
    LinkedEvent,
    Record,
    Result,
    ResultWindow,
    Roi,
)
from otel_impact.report.base import (
    ci_source,
    fmt,
    fmt_duration,
    fmt_int,
    fmt_num,
    fmt_p,
    fmt_pct,
    fmt_r,
    fmt_time,
    model_label,
    num,
    version_label,
)
from otel_impact.report.data import Table
from otel_impact.report.headline import build_headline
from otel_impact.report.markdown import md_table
from otel_impact.store.client import StoreClient, query_file, rows

PERIODS = {"daily": 86400, "weekly": 7 * 86400, "monthly": 30 * 86400}
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


def _query(client: StoreClient, name: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    return rows(query_file(client, f"{name}.sql", params, doing="digest"))


def _seg(attrs: dict[str, str]) -> str:
    key, value = attrs.get(sc.IMPACT_SEGMENT_KEY, "all"), attrs.get(sc.IMPACT_SEGMENT_VALUE, "all")
    return "all users" if key == "all" else f"{key}={value}"


def _segment(attrs: dict[str, str]) -> dict[str, str]:
    key, value = attrs.get(sc.IMPACT_SEGMENT_KEY, "all"), attrs.get(sc.IMPACT_SEGMENT_VALUE, "all")
    return {} if key == "all" else dict(zip(key.split(","), value.split(","), strict=False))


def _arm(text: str) -> dict[str, str]:
    k, _, v = str(text or "").partition("=")
    return {k: v} if v else {"arm": k}


_RUN_KEYS = (sc.IMPACT_RUN_ID, sc.IMPACT_WINDOW_START, sc.IMPACT_WINDOW_END)


def _aware(t: Any) -> datetime:
    return t.replace(tzinfo=UTC) if isinstance(t, datetime) and t.tzinfo is None else t


def _latest_window(
    rows: list[tuple[Any, ...]], runs: list[tuple[Any, ...]]
) -> tuple[list[tuple[Any, ...]], dict[str, datetime]]:
    """Only the points of the latest analysed window, and that window (from the job's run log)."""
    if not rows:
        return rows, {}
    last = max(_aware(r[3]) for r in rows)
    kept = [r for r in rows if _aware(r[3]) == last]
    start = next(
        (_aware(r[2]) for r in runs if r[1] == "ok" and _aware(r[3]) == last and r[2] is not None), None
    )
    window = {"end": last}
    if start is not None:
        window["start"] = start
    return kept, window


def _span(window: dict[str, datetime]) -> str:
    if not window:
        return "no analysis in this period"
    return f"{fmt_time(window['start']) if 'start' in window else 'window'} .. {fmt_time(window['end'])} UTC"


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


def _severity(event: tuple[Any, ...]) -> str:
    """CRIT / WARN / INFO / RESOLVED / INCIDENT for a stored alert or incident event."""
    name, _, text, _, attrs = event
    if name == sc.EVENT_IMPACT_INCIDENT:
        return "INCIDENT"
    if str(attrs.get(sc.IMPACT_ALERT_STATE, "firing")) == "resolved":
        return "RESOLVED"
    sev = str(attrs.get(sc.IMPACT_ALERT_SEVERITY) or "").lower()
    if sev in ("critical", "error", "high") or (not sev and text == "ERROR"):
        return "CRIT"
    if sev in ("warning", "warn") or (not sev and text == "WARN"):
        return "WARN"
    return "INFO"


_SEV_ORDER = {"CRIT": 0, "INCIDENT": 1, "WARN": 2, "INFO": 3, "RESOLVED": 4}


R = TypeVar("R", bound=Record)


def _partial(cls: type[R], **known: Any) -> R:
    """A ``cls`` row holding only what the stored points carry; every other field is ``None``.

    The exported points keep a few numbers of each result row (no ``n``, no unadjusted p-value, no
    ROI cost …), so these rows are not validated: the headline reads ``None`` as "not known"."""
    return cls.model_construct(**({name: None for name in cls.model_fields} | known))


def _stored_time(value: Any, default: datetime) -> datetime:
    """An ISO time kept in an event attribute (``default`` when absent or unreadable)."""
    try:
        return parse_iso(value) if isinstance(value, str) and value else default
    except ValueError:
        return default


def result_from_store(
    rows: list[tuple[Any, ...]], events: list[tuple[Any, ...]], window: dict[str, datetime] | None = None
) -> Result:
    """The part of a result the headline needs, rebuilt from the stored points/events.

    Not a validated :class:`Result`: its rows hold only what the points carry (see
    :func:`_partial`), and it has no window unless ``window`` names both ends."""
    doc: dict[str, Any] = {
        "correlations": [],
        "lift": [],
        "attribution": [],
        "roi": [],
        "alerts": [],
        "incidents": [],
    }
    for c in _group(
        rows,
        [
            sc.METRIC_IMPACT_CORRELATION,
            sc.METRIC_IMPACT_CORRELATION_CI_LOW,
            sc.METRIC_IMPACT_CORRELATION_CI_HIGH,
            sc.METRIC_IMPACT_CORRELATION_PVALUE,
        ],
        [
            sc.IMPACT_MODEL_METRIC,
            sc.IMPACT_BUSINESS_METRIC,
            sc.IMPACT_SEGMENT_KEY,
            sc.IMPACT_SEGMENT_VALUE,
            sc.IMPACT_LAG_S,
            sc.IMPACT_METHOD,
        ],
    ):
        a = c["attrs"]
        doc["correlations"].append(
            _partial(
                Correlation,
                model_name=a.get(sc.ML_MODEL_NAME),
                model_metric=a.get(sc.IMPACT_MODEL_METRIC),
                business_metric=a.get(sc.IMPACT_BUSINESS_METRIC),
                segment=_segment(a),
                lag_s=num(a.get(sc.IMPACT_LAG_S)),
                method=a.get(sc.IMPACT_METHOD),
                estimate=c.get(sc.METRIC_IMPACT_CORRELATION),
                ci=[c.get(sc.METRIC_IMPACT_CORRELATION_CI_LOW), c.get(sc.METRIC_IMPACT_CORRELATION_CI_HIGH)],
                pvalue=c.get(sc.METRIC_IMPACT_CORRELATION_PVALUE),
                correction="sidak",
            )
        )
    for x in _group(
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
    ):
        a = x["attrs"]
        doc["lift"].append(
            _partial(
                Lift,
                metric=a.get(sc.IMPACT_BUSINESS_METRIC),
                treatment=_arm(a.get(sc.IMPACT_TREATMENT, "")),
                control=_arm(a.get(sc.IMPACT_CONTROL, "")),
                segment=_segment(a),
                estimate=x.get(sc.METRIC_IMPACT_LIFT),
                ci=[x.get(sc.METRIC_IMPACT_LIFT_CI_LOW), x.get(sc.METRIC_IMPACT_LIFT_CI_HIGH)],
                pvalue=x.get(sc.METRIC_IMPACT_LIFT_PVALUE),
                method=a.get(sc.IMPACT_METHOD),
            )
        )
    for a_ in _group(
        rows,
        [sc.METRIC_IMPACT_ATTRIBUTED_VALUE, sc.METRIC_IMPACT_ATTRIBUTED_CREDIT],
        [
            sc.IMPACT_BUSINESS_METRIC,
            sc.IMPACT_ATTRIBUTION_MODEL,
            sc.ML_MODEL_NAME,
            sc.ML_MODEL_VERSION,
            sc.IMPACT_SEGMENT_KEY,
            sc.IMPACT_SEGMENT_VALUE,
        ],
    ):
        a = a_["attrs"]
        doc["attribution"].append(
            _partial(
                Attribution,
                business_metric=a.get(sc.IMPACT_BUSINESS_METRIC),
                model=a.get(sc.IMPACT_ATTRIBUTION_MODEL),
                model_name=a.get(sc.ML_MODEL_NAME),
                model_version=a.get(sc.ML_MODEL_VERSION),
                segment=_segment(a),
                value=a_.get(sc.METRIC_IMPACT_ATTRIBUTED_VALUE),
                credit=a_.get(sc.METRIC_IMPACT_ATTRIBUTED_CREDIT),
            )
        )
    for r in _group(
        rows, [sc.METRIC_IMPACT_ROI, sc.METRIC_IMPACT_NET_BENEFIT], [sc.ML_MODEL_NAME, sc.ML_MODEL_VERSION]
    ):
        a = r["attrs"]
        doc["roi"].append(
            _partial(
                Roi,
                model_name=a.get(sc.ML_MODEL_NAME),
                model_version=a.get(sc.ML_MODEL_VERSION),
                roi_pct=r.get(sc.METRIC_IMPACT_ROI),
                net_benefit=r.get(sc.METRIC_IMPACT_NET_BENEFIT),
                claimed=r.get(sc.METRIC_IMPACT_ROI) is not None,
            )
        )
    for e in events:
        name, at, _, body, attrs = e
        if name == sc.EVENT_IMPACT_INCIDENT:
            linked = [
                _partial(LinkedEvent, pipeline=p, dataset=d)
                for p, _, d in (
                    x.partition("/") for x in str(attrs.get(sc.IMPACT_INCIDENT_LINKED, "")).split(";") if x
                )
            ]
            anomaly = _partial(
                Anomaly,
                metric=attrs.get(sc.IMPACT_INCIDENT_METRIC),
                start=_stored_time(attrs.get(sc.IMPACT_INCIDENT_START), _aware(at)),
                segment=_segment(attrs),
            )
            doc["incidents"].append(_partial(Incident, anomaly=anomaly, linked=linked))
        else:
            sev = _severity(e)
            doc["alerts"].append(
                Alert(
                    rule=attrs.get(sc.IMPACT_ALERT_RULE, "alert"),
                    severity="critical" if sev == "CRIT" else "warning" if sev == "WARN" else "info",
                    state="resolved" if sev == "RESOLVED" else "firing",
                    at=_aware(at),
                    message=str(body),
                    attributes=attrs,
                )
            )
    if window and "start" in window:
        doc["window"] = ResultWindow(start=window["start"], end=window["end"])
    return Result.model_construct(**doc)


def _operational(
    config: ImpactConfig, now: datetime, runs: list[tuple[Any, ...]], events: list[tuple[Any, ...]]
) -> list[str]:
    lines = ["## Operational", ""]
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
    alerts = [e for e in events if e[0] == sc.EVENT_IMPACT_ALERT]
    incidents = [e for e in events if e[0] == sc.EVENT_IMPACT_INCIDENT]
    crit = sum(1 for e in alerts if _severity(e) == "CRIT")
    resolved = sum(1 for e in alerts if _severity(e) == "RESOLVED")
    lines += [
        f"- alerts: {len(alerts)} ({crit} critical, {resolved} resolved); incidents: {len(incidents)}",
        "",
    ]
    if events:
        seen: set[tuple[str, str]] = set()
        ordered = []
        for e in sorted(events, key=lambda e: (_SEV_ORDER[_severity(e)], e[1])):
            key = (_severity(e), str(e[3]))
            if key not in seen:
                seen.add(key)
                ordered.append(e)
        table = [[_severity(e), f"{e[1]:%Y-%m-%d %H:%M}", "incident" if e[0] == sc.EVENT_IMPACT_INCIDENT else
                  str(e[4].get(sc.IMPACT_ALERT_RULE, "alert")), str(e[3])[:200]] for e in ordered[:25]]  # fmt: skip
        more = f" (first 25 of {len(ordered)})" if len(ordered) > 25 else ""
        lines += [f"Critical first, then incidents, warnings, resolved; each by time{more}:", ""]
        lines += [md_table(Table(["severity", "at", "rule", "what"], table)), ""]
    return lines


def _product(
    client: StoreClient, rows: list[tuple[Any, ...]], since: datetime, now: datetime, window: str
) -> list[str]:
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
        for name, kind, cur, prev, n in sorted(series, key=lambda r: (r[1] != "business", r[0])):
            change = (cur - prev) / abs(prev) if prev and prev == prev and cur == cur else None
            table.append([name, kind, fmt_num(cur), fmt_num(prev), fmt_pct(change), fmt_int(n)])
        lines += [
            "Series: mean per bucket in this period vs the previous period of the same length.",
            "",
            md_table(Table(["series", "kind", "this period", "previous", "change", "buckets"], table)),
            "",
        ]
    corr = [c for c in result_from_store(rows, []).correlations if not c.segment]
    if corr:
        corr.sort(key=lambda c: (str(c.business_metric), c.pvalue if c.pvalue is not None else 1.0))
        lines += [
            f"Correlations, all users (analysis window {window}; p corrected for the lags scanned):",
            "",
            md_table(
                Table(
                    ["model → business", "method", "lag", "r", "CI", "p (corrected)"],
                    [
                        [
                            f"{c.model_metric} → {c.business_metric}",
                            str(c.method).capitalize(),
                            fmt_duration(c.lag_s),
                            fmt_r(c.estimate),
                            f"[{fmt_r(c.ci[0])}, {fmt_r(c.ci[1])}]",
                            fmt_p(c.pvalue),
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


def _business(rows: list[tuple[Any, ...]], window: str) -> list[str]:
    lines = ["## Business", ""]
    doc = result_from_store(rows, [])
    attributed = [a for a in doc.attribution if not a.segment]
    if attributed:
        versions = sorted({model_label(a.model_name, a.model_version) for a in attributed})
        keys = sorted({(str(a.business_metric), str(a.model)) for a in attributed})
        cell = {
            (str(a.business_metric), str(a.model), model_label(a.model_name, a.model_version)): a.value
            for a in attributed
        }
        table = [
            [bm, how.replace("_", " "), *[fmt_num(cell.get((bm, how, v))) for v in versions]]
            for bm, how in keys
        ]
        lines += [
            f"Attributed value, all users (analysis window {window}):",
            "",
            md_table(Table(["business metric", "attribution", *versions], table)),
            "",
        ]
    lift = sorted(doc.lift, key=lambda x: (str(x.metric), bool(x.segment), -(x.estimate or 0.0)))
    if lift:
        lines += [
            f"Lift of treatment over control (analysis window {window}; p from Welch's t-test, CI from "
            f"{ci_source(x.ci_method for x in lift)}):",
            "",
            md_table(
                Table(
                    ["metric", "treatment vs control", "segment", "lift", "CI", "p"],
                    [
                        [
                            str(x.metric),
                            " vs ".join(
                                version_label(next(iter(arm.values()), ""))
                                for arm in (x.treatment, x.control)
                            ),
                            ", ".join(f"{k}={v}" for k, v in x.segment.items()) or "all users",
                            fmt_pct(x.estimate),
                            f"[{fmt_pct(x.ci[0])}, {fmt_pct(x.ci[1])}]",
                            fmt_p(x.pvalue),
                        ]
                        for x in lift
                    ],
                )
            ),
            "",
        ]
    if doc.roi:
        lines += [
            md_table(
                Table(
                    ["model", "ROI", "net benefit"],
                    [
                        [
                            model_label(r.model_name, r.model_version),
                            fmt_pct(r.roi_pct, scale=1) if r.roi_pct is not None else "not claimed",
                            fmt_num(r.net_benefit),
                        ]
                        for r in doc.roi
                    ],
                )
            ),
            "",
        ]
    if len(lines) == 2:
        lines += ["_no data_", ""]
    return lines


def build_digest(client: StoreClient, config: ImpactConfig, period: str, now: datetime | None = None) -> str:
    """The Markdown digest for ``period`` (daily / weekly / monthly) ending at ``now``."""
    if period not in PERIODS:
        raise ConfigError(f"must be one of {', '.join(PERIODS)}, got {period!r}", path="--period")
    now = (now or datetime.now(UTC)).astimezone(UTC)
    since = now - timedelta(seconds=PERIODS[period])
    runs = _query(client, "job_runs", {"job": config.job.name, "since": since, "limit": 1000})
    rows, win = _latest_window(
        _query(client, "digest_metrics", {"since": since, "until": now, "names": _WINDOW_METRICS}), runs
    )
    window = _span(win)
    events = [
        (e[0], e[1], e[2], e[3], dict(e[4]) if len(e) > 4 and e[4] is not None else {})
        for e in _query(client, "digest_events", {"since": since, "until": now})
    ]
    parts: dict[str, Callable[[], list[str]]] = {
        "operational": lambda: _operational(config, now, runs, events),
        "product": lambda: _product(client, rows, since, now, window),
        "business": lambda: _business(rows, window),
    }
    order = {
        "daily": ["operational", "product", "business"],
        "weekly": ["product", "business", "operational"],
        "monthly": ["business", "product", "operational"],
    }[period]
    head = [f"# otel-impact {period} digest", "", f"{since:%Y-%m-%d %H:%M} .. {now:%Y-%m-%d %H:%M} UTC", ""]
    headline = build_headline(result_from_store(rows, events, win)).lines()
    head += [
        "## Did the model move the business?",
        "",
        f"_Estimates from the latest analysis: {window}._",
        "",
    ]
    head += [*headline[1:], ""]
    body: list[str] = []
    for part in order:
        body += parts[part]()
    return "\n".join(head + body).rstrip() + "\n"
