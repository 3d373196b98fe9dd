"""Issue 16, defect 2: telemetry can crash the analyzer (alert messages re-formatted with
``.format()`` after an f-string put telemetry in them: ``{start_ns}`` → KeyError, ``{0}`` →
IndexError).

The sweep: hostile model names, segment values, pipeline/dataset/feature names and data versions
go through every stage of the real job on a chDB store, out through OTLP to the embedded receiver
and back (the exported ``impact.*`` points and events), and into the HTML, Markdown, summary and
digest renderings. The run must succeed and each name must come back verbatim.
"""

from __future__ import annotations

import html
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from otel_impact import semconv
from otel_impact.config import config_from_dict
from otel_impact.export.points import result_events, result_points
from otel_impact.job import run_job
from otel_impact.report.digest import build_digest
from otel_impact.report.html import render_html
from otel_impact.report.markdown import render_markdown
from otel_impact.report.summary import summary_lines

sys.path.insert(0, str(Path(__file__).parent / "export"))
from otlp_sink import receiver

BASE = datetime(2026, 11, 1, tzinfo=UTC)
DAYS = 16
PER_DAY = 110
HOSTILE = ["{x}", "{start_ns}", "%s%d", "ranker-{0}", "q'\"`; DROP TABLE t; --", "nul\x00byte", "L" * 10_240]
SEGMENTS = ["{value}", "%(name)s"]
PIPELINE, DATASET, FEATURE = "{pipeline}-%s", "{0}-data", "{feature!r}"


def _at(days: float) -> datetime:
    return BASE + timedelta(seconds=round(days * 86400))


def _load(client: Any) -> None:
    rng = np.random.default_rng(16)
    spans, logs = [], []
    for m, model in enumerate(HOSTILE):
        for d in range(DAYS):
            y = rng.integers(0, 2, PER_DAY)
            signal = 2.0 if d < 9 else 0.2  # scores lose their signal: AUC, accuracy and drift move
            score = 1 / (1 + np.exp(-(signal * (2 * y - 1) + rng.normal(0, 1, PER_DAY))))
            slow = d >= 9  # latency p95 above 200 ms from day 9
            for i in range(PER_DAY):
                pid = f"p{m}-{d}-{i}"
                attrs = {
                    semconv.ML_MODEL_NAME: model,
                    semconv.ML_MODEL_VERSION: "v{1}" if i % 2 else "v%s",
                    semconv.ML_PREDICTION_ID: pid,
                    semconv.ML_PREDICTION_SCORE: repr(float(score[i])),
                    semconv.USER_ID: f"u{i % 50}",
                    semconv.segment_attribute("platform"): SEGMENTS[i % 2],
                }
                ms = 400.0 if slow else 20.0
                spans.append([_at(d + (i + 0.5) / PER_DAY), f"{m:04x}{d:04x}{i:024x}", f"{m:04x}{i:012x}",
                              "predict " + model, "svc", attrs, int(ms * 1e6)])  # fmt: skip
                logs.append([_at(d + (i + 0.6) / PER_DAY), "ml.outcome", "labeler",
                             {semconv.ML_PREDICTION_ID: pid, semconv.ML_OUTCOME_LABEL: str(int(y[i]))}])  # fmt: skip
                if i % 7 == 0:
                    logs.append([_at(d + (i + 0.7) / PER_DAY), "business.purchase", "checkout",
                                 {semconv.USER_ID: f"u{i % 50}", semconv.BUSINESS_VALUE: "12.5"}])  # fmt: skip
            logs.append([_at(d + 0.3), semconv.EVENT_FEATURE_SUMMARY, "svc",
                         {semconv.ML_MODEL_NAME: model, semconv.ML_FEATURE_NAME: FEATURE,
                          semconv.ML_FEATURE_COUNT: "100", semconv.ML_FEATURE_MISSING: "3",
                          semconv.ML_FEATURE_MEAN: "0.5", semconv.ML_FEATURE_MIN: "0", semconv.ML_FEATURE_MAX: "1"}])  # fmt: skip
    for d in range(DAYS):
        if d in (5, 6, 7):
            continue  # the pipeline misses runs: freshness gaps and an SLO burn
        version = "{version}-%s-" + str(d)
        status = "{status}" if d == 8 else "success"
        logs.append([_at(d + 0.05), semconv.EVENT_PIPELINE_RUN, "airflow",
                     {semconv.PIPELINE_NAME: PIPELINE, semconv.DATASET_NAME: DATASET, semconv.PIPELINE_STATUS: status,
                      semconv.DATA_VERSION: version, semconv.PIPELINE_CHANGE: "{change}" if d == 8 else ""}])  # fmt: skip
    client.insert(
        semconv.TABLE_TRACES, spans,
        column_names=["Timestamp", "TraceId", "SpanId", "SpanName", "ServiceName", "SpanAttributes", "Duration"],
    )  # fmt: skip
    client.insert(
        semconv.TABLE_LOGS, logs, column_names=["Timestamp", "EventName", "ServiceName", "LogAttributes"]
    )


def _config(endpoint: str) -> Any:
    return config_from_dict(
        {
            "segments": ["platform"],
            "business_metrics": [
                {
                    "name": "purchase",
                    "source": {"event": "business.purchase"},
                    "key": semconv.USER_ID,
                    "window": "1d",
                    "value": "sum",
                }
            ],
            "series": {"bucket": "1d", "model_metrics": ["mean_score", "auc"]},
            "lift": {
                "treatment": {semconv.ML_MODEL_VERSION: "v{1}"},
                "control": {semconv.ML_MODEL_VERSION: "v%s"},
                "bootstrap": 200,
            },
            "lineage": {
                "models": {m: {"features": [FEATURE]} for m in HOSTILE},
                "features": {FEATURE: {"datasets": [DATASET]}},
                "datasets": {DATASET: {"pipelines": [PIPELINE]}},
            },
            "pipelines": {PIPELINE: {"schedule": "1d", "grace": "2h", "dataset": DATASET}},
            "incidents": {"history": "16d", "drift": {"reference": "5d", "min_count": 100}},
            "slos": {
                "step": "10m",
                "models": [
                    {
                        "name": "{slo}-%s",
                        "model": HOSTILE[1],
                        "sli": "latency",
                        "objective": 0.99,
                        "threshold_ms": 200,
                    }
                ],
                "pipelines": [
                    {
                        "name": "fresh-{0}",
                        "pipeline": PIPELINE,
                        "sli": "freshness",
                        "objective": 0.99,
                        "max_age": "26h",
                    }
                ],
            },
            "export": {"endpoint": endpoint, "timeout": "30s", "retries": 1, "retry_backoff": "10ms"},
            "job": {"first_run": f"{DAYS}d"},
        }
    )


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [str(k), *_strings(v)]]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []


def test_defect_2_hostile_names_never_reach_a_format_string(store: Any, tmp_path: Path) -> None:
    _load(store)
    reports = [tmp_path / "r.html", tmp_path / "r.md"]
    with receiver(store) as rx:
        out = run_job(store, _config(rx.endpoints.http), since=BASE, until=_at(DAYS), report_paths=reports)
        rx.flush()
    result = out.result.to_json()  # the JSON document the job writes
    assert not [w for w in result["warnings"] if "failed" in w], result["warnings"]
    assert out.exported_points > 0 and out.exported_events > 0
    # every stage saw the names verbatim
    models = {s.get(semconv.ML_MODEL_NAME) for s in result["series"] if s["kind"] == "model"}
    assert set(HOSTILE) <= models
    assert {v for s in result["series"] for v in s["segment"].values()} == set(SEGMENTS)
    rules = {a["rule"] for a in result["alerts"]}
    assert {"latency_p95", "incident", "drift", "slo_burn_rate"} <= rules, rules
    for name in HOSTILE:
        mine = [a for a in result["alerts"] if (a.get("attributes") or {}).get(semconv.ML_MODEL_NAME) == name]
        assert any(a["rule"] == "latency_p95" and name in a["message"] for a in mine), name
    text = "\n".join(_strings(result))
    for name in [*HOSTILE, *SEGMENTS, PIPELINE, DATASET, FEATURE, "{version}-%s-8"]:
        assert name in text, name[:40]
    # export: points and events carry the names as attribute values, verbatim, and they come back
    points, events = (
        result_points(out.result, run_id=out.run_id),
        result_events(out.result, run_id=out.run_id),
    )
    exported = {str(v) for p in points for v in p.attributes.values()} | {
        str(v) for e in events for v in e.attributes.values()
    }
    assert set(HOSTILE) <= exported and set(SEGMENTS) <= exported
    stored = store.query(
        "SELECT DISTINCT Attributes[{k:String}] FROM otel_metrics_gauge",
        parameters={"k": semconv.ML_MODEL_NAME},
    ).result_rows
    assert set(HOSTILE) <= {r[0] for r in stored}
    bodies = store.query(
        "SELECT DISTINCT LogAttributes[{k:String}] FROM otel_logs WHERE EventName = {e:String}",
        parameters={"k": semconv.ML_MODEL_NAME, "e": semconv.EVENT_IMPACT_ALERT},
    ).result_rows
    assert set(HOSTILE) <= {r[0] for r in bodies}
    # reports: the names are in the rendered documents (HTML-escaped in HTML)
    page, md = render_html(out.result), render_markdown(out.result)
    assert reports[0].read_text(encoding="utf-8") and reports[1].read_text(encoding="utf-8")
    summary = "\n".join(summary_lines(out.result))
    assert "alerts" in summary
    digest = build_digest(store, _config("http://127.0.0.1:9"), "weekly", _at(DAYS) + timedelta(hours=1))
    for name in HOSTILE:
        printable = name.replace("\x00", "")
        assert html.escape(name) in page or html.escape(printable) in page, name[:40]
        assert name in md or printable in md, name[:40]
    assert any(name in digest or name.replace("\x00", "") in digest for name in HOSTILE)
