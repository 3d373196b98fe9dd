"""The production job end to end: chDB → run_job → OTLP → embedded receiver → chDB.

Covers: window-end / bucket-end timestamps in the metrics table, idempotent re-runs through the
deduplicated views, the lock (concurrent run refused; the protocol itself is in test_joblock.py), export failure
(retries, ExportError, watermark kept) and catch-up, incremental windows, --fail-on-alert, and
missing tables named in the error.
"""

from __future__ import annotations

import socket
import sys
import time
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest

from otel_impact import semconv as sc
from otel_impact.config import config_from_dict
from otel_impact.errors import EXIT_ALERTS, ExportError, LockedError, StoreError
from otel_impact.job import plan_window, read_watermark, run_job
from otel_impact.pipeline import Window, parse_iso

sys.path.insert(0, str(Path(__file__).parent / "export"))
from otlp_sink import receiver
from results import RECORDED_WINDOW as WINDOW
from results import full_record, full_result, recorded

from otel_impact.records import Result

T0 = parse_iso(WINDOW["start"])
T1 = parse_iso(WINDOW["end"])


def fake_analyze(calls: list[Window] | None = None) -> Any:
    def analyze(client: Any, config: Any, window: Window, *, seed: int = 0, progress: Any = None) -> Result:
        if calls is not None:
            calls.append(window)
        if progress:
            progress("fake")
        return full_record(window.to_json())

    return analyze


def cfg(endpoint: str | None = None, timeout: str = "30s", **job: Any) -> Any:
    """Config with a generous export timeout (a loaded machine must not fail a reachable export);
    tests against an unreachable endpoint pass a short one."""
    export: dict[str, Any] = {"timeout": timeout, "retries": 1, "retry_backoff": "10ms"}
    export["endpoint"] = endpoint or "store"  # results into the test's store unless told otherwise
    return config_from_dict({"export": export, "job": {"lookback": "6h", "first_run": "4d", **job}})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def gauge(client: Any, name: str) -> list[tuple[Any, ...]]:
    return client.query(
        "SELECT TimeUnix, Value, Attributes FROM otel_metrics_gauge WHERE MetricName = {n:String} ORDER BY TimeUnix, Value",
        parameters={"n": name},
    ).result_rows


def latest(client: Any) -> list[tuple[Any, ...]]:
    return client.query(
        "SELECT MetricName, toString(Attributes), TimeUnix, Value FROM impact_metrics_latest ORDER BY ALL"
    ).result_rows


def test_end_to_end_export_timestamps_and_idempotent_rerun(store: Any) -> None:
    with receiver(store) as rx:
        config = cfg(rx.endpoints.http)
        first = run_job(store, config, since=T0, until=T1, analyze_fn=fake_analyze())
        rx.flush()
        doc = recorded()
        assert first.exported_points > 30 and first.exported_events == len(doc["alerts"]) + len(
            doc["incidents"]
        )
        # window-level estimates at the window end
        corr = gauge(store, sc.METRIC_IMPACT_CORRELATION)
        assert {row[0].replace(tzinfo=UTC) for row in corr} == {T1}
        overall = [r for r in corr if r[2][sc.IMPACT_SEGMENT_KEY] == "all"]
        rows = [r for r in doc["correlations"] if r["segment"] == {} and r["estimate"] is not None]
        assert sorted(r[1] for r in overall) == pytest.approx(sorted(r["estimate"] for r in rows))
        assert all(r[2][sc.IMPACT_RUN_ID] == first.run_id for r in corr)
        assert all(r[2][sc.IMPACT_WINDOW_END] == WINDOW["end"] for r in corr)
        lag = gauge(store, sc.METRIC_IMPACT_BEST_LAG)
        best = {}
        for r in rows:
            key = (r["model_metric"], r["business_metric"])
            if key not in best or abs(r["estimate"]) > abs(best[key]["estimate"]):
                best[key] = r
        assert sorted(r[1] for r in lag if r[2][sc.IMPACT_SEGMENT_KEY] == "all") == sorted(
            r["lag_s"] for r in best.values()
        )
        # series values at each bucket's end (next bucket start; last = window end); None skipped
        series = next(s for s in doc["series"] if s["name"] == "ctr" and s["segment"] == {})
        ctr = [r for r in gauge(store, sc.METRIC_IMPACT_SERIES)
               if r[2][sc.IMPACT_SERIES_NAME] == "ctr" and r[2][sc.IMPACT_SEGMENT_KEY] == "all"]  # fmt: skip
        starts = [parse_iso(b) for b in series["buckets"]]
        ends = [*starts[1:], T1]
        kept = [i for i, v in enumerate(series["values"]) if v is not None]
        assert [r[0].replace(tzinfo=UTC) for r in ctr] == [ends[i] for i in kept]
        assert [r[1] for r in ctr] == pytest.approx([series["values"][i] for i in kept])
        events = store.query(
            "SELECT EventName, Timestamp FROM otel_logs ORDER BY Timestamp, EventName"
        ).result_rows
        expected = [(sc.EVENT_IMPACT_ALERT, parse_iso(a["at"])) for a in doc["alerts"]]
        expected += [(sc.EVENT_IMPACT_INCIDENT, parse_iso(i["anomaly"]["end"])) for i in doc["incidents"]]
        assert [(e[0], e[1].replace(tzinfo=UTC)) for e in events] == sorted(
            expected, key=lambda e: (e[1], e[0])
        )
        view_before = latest(store)
        events_before = store.query(
            "SELECT EventName, Timestamp, Body FROM impact_events_latest ORDER BY ALL"
        ).result_rows
        assert len(view_before) == first.exported_points

        second = run_job(store, config, since=T0, until=T1, analyze_fn=fake_analyze())
        rx.flush()
        assert second.run_id > first.run_id
        raw = store.query("SELECT count() FROM otel_metrics_gauge").result_rows[0][0]
        assert raw == 2 * first.exported_points  # both exports landed ...
        assert latest(store) == view_before  # ... the dashboards' view is unchanged
        assert store.query("SELECT DISTINCT LatestRunId FROM impact_metrics_latest").result_rows == [
            (second.run_id,)
        ]
        events_after = store.query(
            "SELECT EventName, Timestamp, Body FROM impact_events_latest ORDER BY ALL"
        ).result_rows
        assert events_after == events_before
    assert read_watermark(store, config.job.name) == T1
    # one set of annotation rows per run; the dashboards keep the latest run's per (kind, model, start)
    runs = store.query(
        "SELECT run_id, groupArray(kind) FROM impact_annotations GROUP BY run_id ORDER BY run_id"
    ).result_rows
    assert [r[0] for r in runs] == [first.run_id, second.run_id]
    assert sorted(runs[0][1]) == sorted(runs[1][1])
    assert runs[0][1].count("incident") == len(recorded()["incidents"]) == 1


def test_second_concurrent_run_is_refused(store: Any) -> None:
    config = cfg()
    seen: list[str] = []

    def nested(client: Any, config: Any, window: Window, **kw: Any) -> Result:
        with pytest.raises(LockedError) as err:
            run_job(client, config, since=T0, until=T1, export=False, analyze_fn=fake_analyze())
        seen.append(str(err.value))
        return full_record(window.to_json())

    run_job(store, config, since=T0, until=T1, export=False, analyze_fn=nested)
    assert seen and "holds the lock" in seen[0] and "pid" in seen[0]
    assert LockedError.exit_code == 7
    # the lock was released: a later run proceeds
    assert run_job(store, config, since=T0, until=T1, analyze_fn=fake_analyze()).watermark == T1


def test_export_down_keeps_watermark_then_catches_up(store: Any) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    calls: list[Window] = []
    t_first = T1
    run_job(store, cfg(), until=t_first, now=t_first, analyze_fn=fake_analyze(calls))
    assert read_watermark(store, "impact") == t_first
    started = time.monotonic()
    with pytest.raises(ExportError) as err:
        run_job(
            store, cfg(down, timeout="1s"), now=t_first + timedelta(days=1), analyze_fn=fake_analyze(calls)
        )
    assert time.monotonic() - started < 30
    assert "2 attempt(s)" in str(err.value) and ExportError.exit_code == 6
    assert read_watermark(store, "impact") == t_first  # nothing marked done
    status = store.query("SELECT status FROM impact_job_state ORDER BY finished_at").result_rows
    assert [s[0] for s in status] == ["ok", "export_failed"]
    # a run whose export failed leaves no annotations behind (the first run exported into the
    # store, so its incident is annotated)
    assert store.query("SELECT count(DISTINCT run_id) FROM impact_annotations").result_rows == [(1,)]
    with receiver(store) as rx:
        out = run_job(
            store, cfg(rx.endpoints.http), now=t_first + timedelta(days=2), analyze_fn=fake_analyze(calls)
        )
        rx.flush()
    # the catch-up window starts from the last good watermark minus the lookback
    assert calls[-1] == Window(t_first - timedelta(hours=6), t_first + timedelta(days=2))
    assert out.previous_watermark == t_first and read_watermark(store, "impact") == calls[-1].end
    assert store.query("SELECT count() FROM impact_metrics_latest").result_rows[0][0] > 0


def test_incremental_windows_first_run_then_lookback(store: Any) -> None:
    calls: list[Window] = []
    config = cfg()
    run_job(store, config, now=T1, analyze_fn=fake_analyze(calls))
    run_job(store, config, now=T1 + timedelta(hours=1), analyze_fn=fake_analyze(calls))
    assert calls[0] == Window(T1 - timedelta(days=4), T1)
    assert calls[1] == Window(T1 - timedelta(hours=6), T1 + timedelta(hours=1))
    # a backfill of an older window never moves the watermark back
    run_job(store, config, since=T0, until=T0 + timedelta(days=1), analyze_fn=fake_analyze(calls))
    assert read_watermark(store, "impact") == T1 + timedelta(hours=1)


def test_plan_window_validation() -> None:
    config = cfg()
    with pytest.raises(ValueError, match="--since"):
        plan_window(config, T1, T0, T1, None)


def test_fail_on_alert_and_reports(store: Any, tmp_path: Path) -> None:
    html, md = tmp_path / "r.html", tmp_path / "r.md"
    out = run_job(store, cfg(), since=T0, until=T1, export=False, fail_on_alert=True,
                  report_paths=[html, md], analyze_fn=fake_analyze())  # fmt: skip
    firing = [a for a in recorded()["alerts"] if a["state"] == "firing"]
    assert out.alerts == len(firing) > 0 and out.exit_code == EXIT_ALERTS == 8
    assert html.read_text().startswith("<!DOCTYPE html>") and "| metric |" in md.read_text()
    quiet = run_job(store, cfg(), since=T0, until=T1, export=False, analyze_fn=fake_analyze())
    assert quiet.exit_code == 0

    def resolved_only(client: Any, config: Any, window: Window, **kw: Any) -> Result:
        doc = full_result(window.to_json())
        for alert in doc["alerts"]:
            alert["state"] = "resolved"
        return Result.from_json(doc)

    resolved = run_job(
        store, cfg(), since=T0, until=T1, export=False, fail_on_alert=True, analyze_fn=resolved_only
    )
    assert resolved.alerts == 0 and resolved.exit_code == 0  # a resolved transition is not a fired alert
    with pytest.raises(ValueError, match="--report"):
        run_job(store, cfg(), since=T0, until=T1, export=False, report_paths=[tmp_path / "r.pdf"],
                analyze_fn=fake_analyze())  # fmt: skip


def test_missing_table_is_named(db_client: Any) -> None:
    with pytest.raises(StoreError, match="impact_job_state"):
        run_job(db_client, cfg(), since=T0, until=T1, export=False, analyze_fn=fake_analyze())


def test_evaluation_added_to_result(store: Any) -> None:
    config = config_from_dict(
        {
            "evaluation": {
                "features": [
                    {"name": "recs", "offline": {"name": "ndcg", "value": 0.4, "threshold": 0.3},
                     "online": {"series": "ctr", "threshold": 0.2}},
                    {"name": "search", "offline": {"name": "auc", "sql": "SELECT 0.91", "threshold": 0.8},
                     "online": {"lift": "purchase", "threshold": 0.05}},
                ]
            }
        }
    )  # fmt: skip
    out = run_job(store, config, since=T0, until=T1, export=False, analyze_fn=fake_analyze())
    rows = {r.feature: r for r in out.result.evaluation or []}
    assert rows["recs"].decision == "iterate_ux"  # ndcg ok, mean ctr 0.137 < 0.2
    assert rows["search"].offline.value == pytest.approx(0.91)
    assert rows["search"].decision == "ship"  # lift 0.062 >= 0.05


def test_failed_analysis_is_logged_and_releases_the_lock(store: Any) -> None:
    from otel_impact.errors import AnalysisError

    def broken(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise AnalysisError("stage 'x' failed")

    with pytest.raises(AnalysisError):
        run_job(store, cfg(), since=T0, until=T1, export=False, analyze_fn=broken)
    rows = store.query("SELECT status, message FROM impact_job_state").result_rows
    assert rows == [("failed", "AnalysisError: stage 'x' failed")]
    assert read_watermark(store, "impact") is None
    disabled = config_from_dict({"export": {"enabled": False, "endpoint": "http://127.0.0.1:9"}})
    out = run_job(store, disabled, since=T0, until=T1, analyze_fn=fake_analyze())  # lock was released
    # export disabled in config: nothing sent, and the watermark (of exported results) stays put
    assert out.exported_points == 0 and out.watermark is None and read_watermark(store, "impact") is None


def test_the_run_section_holds_each_stage_time_of_the_real_pipeline(store: Any) -> None:
    from otel_impact.pipeline import STAGES

    said: list[str] = []
    out = run_job(store, cfg(), since=T0, until=T1, export=False, progress=said.append)
    assert out.result.run is not None and out.result.run.stage_seconds is not None
    times = out.result.run.stage_seconds
    assert list(times) == [s.name for s in STAGES] and all(t >= 0 for t in times.values())
    assert out.result.to_json()["run"]["stage_seconds"] == times
    logged = next(line for line in said if line.startswith("stage times: "))
    assert logged.count(" s,") == len(STAGES) - 1 and logged.startswith(f"stage times: {STAGES[0].name} ")
