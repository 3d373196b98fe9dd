"""Every dashboard query, expanded the way Grafana and the ClickHouse plugin expand it, runs on chDB
against a reduced demo data set and returns the columns its panel needs — and the numbers the
panels show agree with the analyzer's result document and with independent numpy computations.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from tests.dashboards.conftest import DemoData
from tests.dashboards.grafana import ALL, Context, render
from tests.dashboards.runner import Query, queries, resolve_variables

INTERVAL_S = 3600
TIME_TYPES = ("DateTime",)
NUMERIC = ("Float", "Int", "UInt", "Decimal")

# Queries that may legitimately return no rows on the reduced demo: no anomaly is guaranteed at
# this size, and no Collector / receiver self-metrics are exported by the demo's services. Whether
# any alert fires depends on which spans the demo's ratio sampler kept (random trace ids), so the
# alert queries are checked against the result document instead (test_alert_queries_show_every_alert).
# ROI and net benefit are exported only when the lift they rest on is significant; the 150-user
# demo's lift is not. At this size a market has about one purchase a day: the rollout-impact
# estimates may all be missing.
MAY_BE_EMPTY = {
    "Incidents",
    "Receiver / Collector throughput",
    "Analyzer alerts",
    "ROI (latest run)",
    "Net benefit (latest run)",
    "Rollout impact",
    # the reduced demo leaves out the LLM support assistant (DemoOptions(llm=False)); its panel's
    # query is checked by tests/llm/test_llm_e2e.py on the LLM end-to-end store
    "LLM cost per business outcome by model and prompt version (latest run, all users)",
}


def _columns(client: Any, sql: str) -> list[tuple[str, str]]:
    """(name, type) of a query's result, known even when it returns no rows."""
    return [(r[0], r[1]) for r in client.query(f"DESCRIBE TABLE ({sql})").result_rows]


def _base(t: str) -> str:
    """The type inside LowCardinality(...) / Nullable(...) wrappers."""
    while t.startswith(("LowCardinality(", "Nullable(")) and t.endswith(")"):
        t = t[t.index("(") + 1 : -1]
    return t


def _check_shape(q: Query, cols: list[tuple[str, str]]) -> None:
    names = [n for n, _ in cols]
    types = dict(cols)
    assert cols, f"{q.where}: no columns"
    if q.kind == "variable":
        assert 1 <= len(cols) <= 2, f"{q.where}: a variable query returns value (and text): {names}"
    elif q.kind == "annotation":
        assert names[0] == "time" and _base(types["time"]).startswith(TIME_TYPES), f"{q.where}: {cols}"
        assert {"title", "text"} <= set(names), f"{q.where}: needs title and text: {names}"
        if "timeEnd" in types:
            assert _base(types["timeEnd"]).startswith(TIME_TYPES)
    elif q.kind == "timeseries":
        assert q.fmt == 0, f"{q.where}: time series panels use the plugin's time-series format"
        assert names[0] == "time" and _base(types["time"]).startswith(TIME_TYPES), f"{q.where}: {cols}"
        values = [n for n, t in cols[1:] if _base(t).startswith(NUMERIC)]
        labels = [n for n, t in cols[1:] if _base(t) == "String"]
        assert values, f"{q.where}: a time series needs a numeric value column: {cols}"
        assert len(values) + len(labels) == len(cols) - 1, f"{q.where}: only numbers and labels: {cols}"
    elif q.kind == "stat":
        assert any(_base(t).startswith(NUMERIC) for _, t in cols), f"{q.where}: a stat needs a number: {cols}"
    else:
        assert q.kind == "table", q.kind
        assert len(cols) >= 2, f"{q.where}: {cols}"


def _run_board(
    data: DemoData, board: dict[str, Any], *, all_selected: bool, check: bool = True
) -> dict[str, list[tuple]]:
    client = data.client
    values = resolve_variables(board, client, data.start, data.range_end, all_selected=all_selected)
    ctx = Context(data.start, data.range_end, INTERVAL_S, values)
    rows: dict[str, list[tuple]] = {}
    for q in queries(board):
        sql = render(q.sql, ctx)
        try:
            result = client.query(sql)
        except Exception as exc:  # pragma: no cover - the message is the point
            pytest.fail(f"{q.where} failed on chDB: {exc}\n{sql}")
        rows[q.where] = result.result_rows
        if not check:
            continue
        if result.result_rows:
            cols = list(zip(result.column_names, [t.name for t in result.column_types], strict=True))
        else:
            cols = _columns(client, sql)
        _check_shape(q, cols)
        title = (
            q.where.split(" ", 1)[1].strip("'")
            if q.kind == "annotation"
            else (q.panel or {}).get("title", "")
        )
        if not any(m in title for m in MAY_BE_EMPTY):
            assert rows[q.where], f"{q.where}: no rows on the demo data\n{sql}"
    return rows


@pytest.mark.parametrize("all_selected", [False, True], ids=["values", "all"])
def test_every_query_runs_and_returns_its_panels_columns(demo_data, boards, all_selected):
    assert len(boards) == 5
    for board in boards.values():
        _run_board(demo_data, board, all_selected=all_selected)


def _panel_sql(board: dict[str, Any], title_part: str) -> str:
    hits = [p for p in board["panels"] if title_part in p.get("title", "")]
    assert len(hits) == 1, [p.get("title") for p in board["panels"]]
    return hits[0]["targets"][0]["rawSql"]


def _query(data: DemoData, board: dict[str, Any], title_part: str, **overrides: Any) -> list[tuple]:
    values = resolve_variables(board, data.client, data.start, data.range_end)
    values.update(overrides)
    ctx = Context(data.start, data.range_end, INTERVAL_S, values)
    return data.client.query(render(_panel_sql(board, title_part), ctx)).result_rows


def test_side_by_side_shifts_the_business_series_by_the_lag(demo_data, boards):
    board = boards["model-business.json"]
    base = _query(demo_data, board, "business shifted back", model_metric="ctr", lag="0")
    shifted = _query(demo_data, board, "business shifted back", model_metric="ctr", lag="86400")
    by_time = {r[0]: r[2] for r in base}
    assert len(base) >= 15
    checked = 0
    for t, _, business in shifted:
        later = by_time.get(t + timedelta(days=1))
        if later is not None:
            assert business == pytest.approx(later)
            checked += 1
    assert checked >= len(base) - 2
    assert [r[1] for r in shifted] == [r[1] for r in base]  # the model side does not move


def test_rolling_correlation_and_band_match_numpy(demo_data, boards):
    board = boards["model-business.json"]
    pairs = [r for r in _query(demo_data, board, "business shifted back", lag="86400") if r[2] is not None]
    rolling = _query(demo_data, board, "Rolling correlation", lag="86400", window="6")
    assert rolling
    x = np.array([r[1] for r in pairs])
    y = np.array([r[2] for r in pairs])
    times = [r[0] for r in pairs]
    for t, r, lo, hi in rolling:
        i = times.index(t)
        xs, ys = x[max(0, i - 6) : i + 1], y[max(0, i - 6) : i + 1]
        expected = np.corrcoef(xs, ys)[0, 1]
        assert r == pytest.approx(expected, abs=1e-9)
        half = 1.959964 / np.sqrt(len(xs) - 3)
        assert (lo, hi) == pytest.approx(
            (np.tanh(np.arctanh(expected) - half), np.tanh(np.arctanh(expected) + half))
        )


def test_latest_correlations_are_the_analyzers(demo_data, boards):
    rows = _query(demo_data, boards["model-business.json"], "Latest correlations")
    got = {(r[0], r[1], r[2]): (r[3], r[4], r[5], r[6], r[7]) for r in rows}
    expected = [
        c for c in demo_data.result["correlations"] if not c.get("segment") and c.get("estimate") is not None
    ]
    assert expected and len(got) == len(expected)
    for c in expected:
        lag_days, r, lo, hi, p = got[(c["model_metric"], c["business_metric"], c["method"])]
        assert r == pytest.approx(c["estimate"])
        assert lag_days == pytest.approx(c["lag_s"] / 86400)
        if c["ci"] and None not in c["ci"]:
            assert (lo, hi) == pytest.approx(tuple(c["ci"][:2]))
        if c["pvalue"] is not None:
            assert p == pytest.approx(c["pvalue"])


def test_segment_lift_table_is_the_analyzers_lift(demo_data, boards):
    rows = _query(
        demo_data, boards["segments.json"], "Per-segment lift", segment_key="$__all", segment_value="$__all"
    )
    got = {(r[0], r[1]): r[4] for r in rows}
    expected = {
        (k, str(v)): row["estimate"]
        for row in demo_data.result["lift"]
        for k, v in (row.get("segment") or {}).items()
        if row.get("estimate") is not None
    }
    assert expected and got == pytest.approx(expected)


def test_prediction_volume_from_spans_and_from_the_counter(demo_data, boards):
    board = boards["instrumentation-health.json"]
    spans = _query(demo_data, board, "prediction spans, re-weighted")
    total_spans = sum(r[2] for r in spans) * INTERVAL_S
    stored = demo_data.client.query("SELECT sum(adjusted_count) FROM impact_predictions").result_rows[0][0]
    assert total_spans == pytest.approx(stored)
    counter = _query(demo_data, board, "ml.predictions, unsampled")
    total_counter = sum(r[2] for r in counter) * INTERVAL_S
    exact = demo_data.client.query(
        "SELECT sum(v) FROM (SELECT max(Value) AS v FROM otel_metrics_sum "
        "WHERE MetricName = 'ml.predictions' GROUP BY ResourceAttributes, ScopeName, Attributes, StartTimeUnix)"
    ).result_rows[0][0]
    assert total_counter == pytest.approx(exact)
    # the unsampled count is exact; the re-weighted spans estimate it
    assert total_spans == pytest.approx(exact, rel=0.25)


def test_psi_panel_matches_numpy(demo_data, boards):
    board = boards["incidents-quality.json"]
    rows = _query(demo_data, board, "Score drift", reference="259200")
    assert rows
    pred = demo_data.client.query(
        "SELECT toUnixTimestamp(ts), score, adjusted_count FROM impact_predictions WHERE isFinite(score)"
    ).result_rows
    ts = np.array([p[0] for p in pred], dtype=np.int64)
    score = np.array([p[1] for p in pred])
    w = np.array([p[2] for p in pred])
    t0 = int(demo_data.start.timestamp())
    ref = (ts >= t0) & (ts < t0 + 259200)
    # ClickHouse `quantiles` is an approximate (sampling) quantile: take its edges from the store
    edges = np.array(
        demo_data.client.query(
            "SELECT quantiles(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)(score) FROM impact_predictions "
            "WHERE isFinite(score) AND ts >= toDateTime({a:UInt32}) AND ts < toDateTime({b:UInt32})",
            parameters={"a": t0, "b": t0 + 259200},
        ).result_rows[0][0]
    )
    bins = (score[:, None] >= edges[None, :]).sum(axis=1)
    e = np.maximum(np.bincount(bins[ref], weights=w[ref], minlength=10) / w[ref].sum(), 1e-4)
    for t, psi, _n in rows[:5]:
        sel = (ts >= int(t.replace(tzinfo=demo_data.start.tzinfo).timestamp())) & (
            ts < int(t.replace(tzinfo=demo_data.start.tzinfo).timestamp()) + INTERVAL_S
        )
        a = np.maximum(np.bincount(bins[sel], weights=w[sel], minlength=10) / w[sel].sum(), 1e-4)
        assert psi == pytest.approx(float(np.sum((a - e) * np.log(a / e))), rel=1e-6)


def test_kpi_table_splits_the_series_at_the_rollout(demo_data, boards):
    board = boards["attribution-roi.json"]
    rollout = "2026-11-05 00:00:00"
    rows = {r[0]: r for r in _query(demo_data, board, "KPIs before and after", rollout=rollout)}
    series = demo_data.client.query(
        "SELECT TimeUnix, Value FROM impact_metrics_latest WHERE MetricName = 'impact.series' "
        "AND Attributes['impact.series.name'] = 'volume' AND Attributes['impact.segment.key'] = 'all' "
        "AND Attributes['ml.model.version'] = ''"
    ).result_rows
    cut = np.datetime64("2026-11-05T00:00:00")
    before = [v for t, v in series if np.datetime64(t) <= cut]
    after = [v for t, v in series if np.datetime64(t) > cut]
    _, b, a, change, pct, nb, na = rows["volume"]
    assert (b, a, nb, na) == pytest.approx((np.mean(before), np.mean(after), len(before), len(after)))
    assert change == pytest.approx(a - b) and pct == pytest.approx((a - b) / abs(b))


def test_alert_queries_show_every_alert(demo_data, boards):
    expected = {(a["rule"], str(a["at"])[:19]) for a in demo_data.result["alerts"]}
    board = boards["incidents-quality.json"]
    table = _query(demo_data, board, "Analyzer alerts")
    assert {(r[1], r[0].isoformat()[:19]) for r in table} == expected
    ann = next(a for a in board["annotations"]["list"] if a["name"] == "Analyzer alerts")
    values = resolve_variables(board, demo_data.client, demo_data.start, demo_data.range_end)
    rows = demo_data.client.query(
        render(ann["target"]["rawSql"], Context(demo_data.start, demo_data.range_end, INTERVAL_S, values))
    ).result_rows
    assert len(rows) == len(table) == len(expected)


def test_stored_annotations_are_deduplicated_across_runs(demo_data, boards):
    board = boards["incidents-quality.json"]
    ann = next(a for a in board["annotations"]["list"] if a["name"].startswith("Analyzer annotations"))
    values = resolve_variables(board, demo_data.client, demo_data.start, demo_data.range_end)
    rows = demo_data.client.query(
        render(ann["target"]["rawSql"], Context(demo_data.start, demo_data.range_end, INTERVAL_S, values))
    ).result_rows
    stored = demo_data.client.query(
        "SELECT count(), uniqExact(run_id), uniqExact(kind, model, segment, start) FROM impact_annotations "
        "WHERE model IN ('', {m:String})",
        parameters={"m": values["model"]},
    ).result_rows[0]
    # the demo's own analyzer run wrote them, and the fixture replayed them under two more run ids
    assert stored[1] == 3 and stored[0] == 3 * stored[2]
    assert len(rows) == stored[2] > 0


def _canonical(rows: list[tuple]) -> list[str]:
    """Rows as sortable text, floats to 9 significant digits (summation order may differ)."""
    return sorted(repr(tuple(f"{v:.9g}" if isinstance(v, float) else v for v in r)) for r in rows)


def _copy_demo(src: Any, dst: Any) -> None:
    from otel_impact.store import apply_schema

    apply_schema(dst, database=dst.database)
    for table in ("otel_traces", "otel_logs", "otel_metrics_gauge", "otel_metrics_sum", "otel_metrics_histogram",
                  "impact_annotations", "impact_job_state"):  # fmt: skip
        dst.command(f"INSERT INTO {dst.database}.{table} SELECT * FROM {src.database}.{table}")


def test_a_rerun_of_the_analyzer_changes_no_panel(demo_data, boards, db_client):
    """Re-exporting every impact.* point and event under a newer run id (what a re-run of the same
    window does to the exporter tables) leaves every panel's rows unchanged; a changed value from
    the newer run replaces the old one instead of adding a row."""
    _copy_demo(demo_data.client, db_client)
    copy = DemoData(db_client, demo_data.result, demo_data.start, demo_data.end, demo_data.range_end)
    before = {name: _run_board(copy, b, all_selected=True, check=False) for name, b in boards.items()}
    newer = "'29991231T000000.000000Z-ffffffff'"
    db_client.command(
        f"INSERT INTO otel_metrics_gauge SELECT * REPLACE (mapUpdate(Attributes, map('impact.run.id', {newer})) AS "
        "Attributes) FROM otel_metrics_gauge WHERE startsWith(MetricName, 'impact.')"
    )
    db_client.command(
        f"INSERT INTO otel_logs SELECT * REPLACE (mapUpdate(LogAttributes, map('impact.run.id', {newer})) AS "
        "LogAttributes) FROM otel_logs WHERE startsWith(EventName, 'impact.')"
    )
    after = {name: _run_board(copy, b, all_selected=True, check=False) for name, b in boards.items()}
    for name in boards:
        for where, rows in before[name].items():
            if "Rows stored per signal" in where:  # counts raw rows on purpose: re-exports are ingest
                continue
            assert _canonical(after[name][where]) == _canonical(rows), f"{name} {where}"
    # a newer run with a different overall lift: the table shows the new value, once
    db_client.command(
        "INSERT INTO otel_metrics_gauge SELECT * REPLACE (mapUpdate(Attributes, "
        "map('impact.run.id', '29991231T000001.000000Z-eeeeeeee')) AS Attributes, 0.4321 AS Value) "
        "FROM (SELECT * FROM otel_metrics_gauge WHERE MetricName = 'impact.lift' "
        "AND Attributes['impact.segment.key'] = 'all' AND Attributes['impact.run.id'] = " + newer + ")"
    )
    rows = _query(copy, boards["attribution-roi.json"], "Lift on")
    overall = [r for r in rows if r[0] == "all=all"]
    assert len(overall) == 1 and overall[0][4] == pytest.approx(0.4321)


def test_incident_annotation_and_table_read_the_exported_incident(boards, db_client):
    """An impact.incident event (attributes as the exporter builds them), exported by two runs, is one
    annotation region from the anomaly's start to its end and one table row."""
    from results import recorded

    from otel_impact.export.points import result_events
    from otel_impact.records import Result
    from otel_impact.store import apply_schema

    apply_schema(db_client, database=db_client.database)
    doc = recorded()  # one incident of the recorded demo, moved to this window, and nothing else
    incident = doc["incidents"][0]
    incident["anomaly"] |= {"metric": "auc", "start": "2026-11-08T00:00:00Z", "end": "2026-11-11T00:00:00Z",
                            "magnitude": -0.07, "segment": {}}  # fmt: skip
    incident["linked"] = [
        incident["linked"][0] | {"pipeline.name": "features_daily", "dataset.name": "clicks"}
    ]
    result = Result.from_json(
        {"window": {"start": "2026-11-01T00:00:00Z", "end": "2026-11-20T00:00:00Z"}, "incidents": [incident]}
    )
    for run in ("20261120T000000.000000Z-aaaaaaaa", "20261121T000000.000000Z-bbbbbbbb"):
        (event,) = result_events(result, run_id=run)
        db_client.insert(
            "otel_logs",
            [[datetime.fromtimestamp(event.time_unix_nano / 1e9, UTC), event.name, event.body, event.severity,
              {k: str(v) for k, v in event.attributes.items()}]],
            column_names=["Timestamp", "EventName", "Body", "SeverityText", "LogAttributes"],
        )  # fmt: skip
    board = boards["incidents-quality.json"]
    start, end = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 21, tzinfo=UTC)
    values = {"database": db_client.database, "model": "ranker", "metric": ALL, "reference": "259200"}
    ctx = Context(start, end, INTERVAL_S, values)
    ann = next(a for a in board["annotations"]["list"] if a["name"] == "Incidents")
    rows = db_client.query(render(ann["target"]["rawSql"], ctx)).result_rows
    assert len(rows) == 1
    time_, time_end, title, text, _tags = rows[0]
    assert (time_.isoformat()[:19], time_end.isoformat()[:19]) == (
        "2026-11-08T00:00:00",
        "2026-11-11T00:00:00",
    )
    assert title.startswith("auc anomaly") and "features_daily/clicks" in text
    table = db_client.query(render(_panel_sql(board, "Incidents (model-metric"), ctx)).result_rows
    assert len(table) == 1 and table[0][1] == "auc" and table[0][5] == pytest.approx(-0.07)
