"""Store queries of the incidents stage: per-bucket model metrics, upstream events, drift inputs.

Each function runs one ``sql/incidents_*.sql`` file with server-side parameters and returns
numpy columns (a ``dict`` of name → array) — only aggregated rows leave ClickHouse: model metrics
per bucket, at most ``sample`` scores per model × bucket, counts of new feature hashes. Times go
in and out as integer nanoseconds since the epoch; buckets as integer indices ``b`` counted from
the window's start. :func:`incident_annotations` turns an analyzer result into annotation rows
and :func:`write_annotations` inserts them into ``impact_annotations`` (the job calls both).

>>> sorted(ANNOTATION_COLUMNS)[:3]
['end', 'kind', 'model']
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from otel_impact import semconv
from otel_impact.context import iso_utc
from otel_impact.errors import StoreError
from otel_impact.records import Result
from otel_impact.store.client import StoreClient, query_file

ANNOTATIONS_TABLE = "impact_annotations"
ANNOTATION_COLUMNS: tuple[str, ...] = (
    "run_id",
    "window_start",
    "window_end",
    "kind",
    "start",
    "end",
    "model",
    "segment",
    "title",
    "text",
    "severity",
)

METRIC_COLUMNS = ("volume", "mean_score", "error_rate", "latency_p95", "accuracy", "auc")

_UPSTREAM_COLUMNS = ("t", "kind", "pipeline", "dataset", "status", "change", "version")
_ATTR_KEYS = {
    "k_pipeline": semconv.PIPELINE_NAME,
    "k_dataset": semconv.DATASET_NAME,
    "k_status": semconv.PIPELINE_STATUS,
    "k_change": semconv.PIPELINE_CHANGE,
    "k_version": semconv.DATA_VERSION,
}


def _query(
    client: StoreClient, name: str, parameters: dict[str, Any], columns: Sequence[str]
) -> dict[str, np.ndarray]:
    """Run ``sql/<name>`` and return ``columns`` as numpy object arrays (empty when no rows: the
    embedded engine reports no column names for an empty result)."""
    res = query_file(client, name, parameters, doing="incidents query")
    got = dict(zip(res.column_names, res.result_columns, strict=True)) if res.result_rows else {}
    out: dict[str, np.ndarray] = {}
    for col in columns:
        values = list(got.get(col, ()))
        arr = np.empty(len(values), dtype=object)
        arr[:] = values
        out[col] = arr
    return out


def _as_float(values: np.ndarray) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)


def _as_int(values: np.ndarray) -> np.ndarray:
    return np.array([int(v) for v in values], dtype=np.int64)


def model_metrics(
    client: StoreClient,
    *,
    start_ns: int,
    end_ns: int,
    bucket_ns: int,
    label_until_ns: int,
    threshold: float = 0.5,
    models: Sequence[str] = (),
    segment_keys: Sequence[str] = (),
) -> dict[str, np.ndarray]:
    """Model metrics per (model, bucket, segment): volume, mean_score, error_rate, latency_p95 (ms),
    accuracy, auc and n_labeled. ``seg_key == ''`` rows are all users."""
    cols = _query(
        client,
        "incidents_metrics.sql",
        {
            "start_ns": start_ns,
            "end_ns": end_ns,
            "bucket_ns": bucket_ns,
            "label_until_ns": label_until_ns,
            "threshold": float(threshold),
            "models": list(models),
            "segment_keys": list(segment_keys),
            "outcome_event": semconv.EVENT_ML_OUTCOME,
        },
        ("model", "b", "seg_key", "seg_value", "n_labeled", *METRIC_COLUMNS),
    )
    cols["b"] = _as_int(cols["b"])
    cols["n_labeled"] = _as_int(cols["n_labeled"])
    for name in METRIC_COLUMNS:
        cols[name] = _as_float(cols[name])
    return cols


def upstream_events(client: StoreClient, *, from_ns: int, end_ns: int) -> dict[str, np.ndarray]:
    """``pipeline.run`` / ``pipeline.incident`` log events and pipeline spans in ``[from, end)``,
    concatenated and ordered by time: t (ns), kind, pipeline, dataset, status, change, version."""
    params = {"from_ns": from_ns, "end_ns": end_ns, **_ATTR_KEYS}
    events = _query(
        client,
        "incidents_upstream_events.sql",
        {**params, "names": [semconv.EVENT_PIPELINE_RUN, semconv.EVENT_PIPELINE_INCIDENT]},
        _UPSTREAM_COLUMNS,
    )
    spans = _query(client, "incidents_upstream_spans.sql", params, _UPSTREAM_COLUMNS)
    out = {k: np.concatenate([events[k], spans[k]]) for k in events}
    out["t"] = _as_int(out["t"])
    order = np.lexsort((out["kind"].astype(str), out["pipeline"].astype(str), out["t"]))
    return {k: v[order] for k, v in out.items()}


def score_samples(
    client: StoreClient,
    *,
    start_ns: int,
    end_ns: int,
    bucket_ns: int,
    ref_end_ns: int,
    sample: int,
    models: Sequence[str] = (),
) -> dict[str, np.ndarray]:
    """Per (model, bucket): n, a deterministic sample of ≤ ``sample`` scores (object array of
    float arrays), n_hashes and n_new_hashes (distinct feature hashes unseen before ``ref_end``)."""
    cols = _query(
        client,
        "incidents_scores.sql",
        {
            "start_ns": start_ns,
            "end_ns": end_ns,
            "bucket_ns": bucket_ns,
            "ref_end_ns": ref_end_ns,
            "sample": int(sample),
            "models": list(models),
        },
        ("model", "b", "n", "scores", "n_hashes", "n_new_hashes"),
    )
    for name in ("b", "n", "n_hashes", "n_new_hashes"):
        cols[name] = _as_int(cols[name])
    scores = np.empty(len(cols["scores"]), dtype=object)
    scores[:] = [np.asarray(s, dtype=np.float64) for s in cols["scores"]]
    cols["scores"] = scores
    return cols


def missing_rates(
    client: StoreClient, *, start_ns: int, end_ns: int, bucket_ns: int, models: Sequence[str] = ()
) -> dict[str, np.ndarray]:
    """Per (model, bucket) from spans carrying ``ml.features.missing``: n, missing_rate, missing_mean."""
    cols = _query(
        client,
        "incidents_missing.sql",
        {
            "start_ns": start_ns,
            "end_ns": end_ns,
            "bucket_ns": bucket_ns,
            "models": list(models),
            "k_model": semconv.ML_MODEL_NAME,
            "k_missing": semconv.ML_FEATURES_MISSING,
        },
        ("model", "b", "n", "missing_rate", "missing_mean"),
    )
    cols["b"], cols["n"] = _as_int(cols["b"]), _as_int(cols["n"])
    cols["missing_rate"], cols["missing_mean"] = (
        _as_float(cols["missing_rate"]),
        _as_float(cols["missing_mean"]),
    )
    return cols


def feature_summaries(
    client: StoreClient, *, start_ns: int, end_ns: int, bucket_ns: int, models: Sequence[str] = ()
) -> dict[str, np.ndarray]:
    """Per (model, feature, bucket) from ``ml.feature.summary`` events: n, missing, mean, min, max."""
    cols = _query(
        client,
        "incidents_feature_summary.sql",
        {
            "start_ns": start_ns,
            "end_ns": end_ns,
            "bucket_ns": bucket_ns,
            "models": list(models),
            "event": semconv.EVENT_FEATURE_SUMMARY,
            "k_model": semconv.ML_MODEL_NAME,
            "k_feature": semconv.ML_FEATURE_NAME,
            "k_count": semconv.ML_FEATURE_COUNT,
            "k_missing": semconv.ML_FEATURE_MISSING,
            "k_mean": semconv.ML_FEATURE_MEAN,
            "k_min": semconv.ML_FEATURE_MIN,
            "k_max": semconv.ML_FEATURE_MAX,
        },
        ("model", "feature", "b", "n", "missing", "mean", "min", "max"),
    )
    cols["b"] = _as_int(cols["b"])
    for name in ("n", "missing", "mean", "min", "max"):
        cols[name] = _as_float(cols[name])
    return cols


def score_histograms(
    client: StoreClient, *, start_ns: int, end_ns: int, bucket_ns: int, models: Sequence[str] = ()
) -> dict[str, np.ndarray]:
    """The ``ml.prediction.score`` histogram metric per (model, series, bucket): temporality
    (1 delta, 2 cumulative), series_start_ns, last_counts (cumulative), delta_counts (sum of
    deltas) and bounds — input to :func:`otel_impact.analyze.drift.histogram_deltas`."""
    cols = _query(
        client,
        "incidents_score_histogram.sql",
        {
            "start_ns": start_ns,
            "end_ns": end_ns,
            "bucket_ns": bucket_ns,
            "models": list(models),
            "metric": semconv.METRIC_PREDICTION_SCORE,
            "k_model": semconv.ML_MODEL_NAME,
        },
        ("model", "series", "b", "temporality", "series_start_ns", "last_counts", "delta_counts", "bounds"),
    )
    for name in ("b", "temporality", "series_start_ns"):
        cols[name] = _as_int(cols[name])
    return cols


def write_annotations(client: StoreClient, rows: Sequence[dict[str, Any]]) -> int:
    """Insert annotation rows (dicts keyed by :data:`ANNOTATION_COLUMNS`) into ``impact_annotations``."""
    if not rows:
        return 0
    data = [[row[c] for c in ANNOTATION_COLUMNS] for row in rows]
    try:
        client.insert(ANNOTATIONS_TABLE, data, column_names=list(ANNOTATION_COLUMNS))
    except Exception as exc:
        raise StoreError(f"cannot write {ANNOTATIONS_TABLE}: {exc}") from exc
    return len(data)


# --- annotations -----------------------------------------------------------------------------

EVENT_CRITICAL_SEVERITY = 0.9  # an upstream event at least this severe (a missing run): critical


def _defined(value: float | None) -> float | None:
    """``value`` unless undefined (``None``, NaN, ±inf: ``null`` in the JSON result)."""
    return value if value is not None and math.isfinite(value) else None


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def incident_annotations(result: Result, run_id: str = "") -> list[dict[str, Any]]:
    """Rows for ``impact_annotations`` (columns :data:`otel_impact.store.incidents.ANNOTATION_COLUMNS`)
    from a result: one per incident, notable upstream event and drifted bucket.

    Pure (no store access): returns dicts with UTC datetimes, ready for :func:`write_annotations`.
    An incident carries the severity the incidents stage gave it (the same as its alert's); an
    upstream event is ``critical`` when its severity is at least :data:`EVENT_CRITICAL_SEVERITY`;
    the rest are ``warning``.
    """
    ws, we = _utc(result.window.start), _utc(result.window.end)
    base = {"run_id": run_id, "window_start": ws, "window_end": we}
    rows: list[dict[str, Any]] = []
    for inc in result.incidents:
        a, links = inc.anomaly, inc.linked
        text = "no upstream cause found"
        if links:
            top = links[0]
            what = top.change or top.status or top.kind or "event"
            text = f"linked to {top.pipeline} {what} on {top.dataset} at {iso_utc(top.at)}"
        magnitude = abs(_defined(a.magnitude) or 0.0)
        rows.append(
            base | {"kind": "incident", "start": _utc(a.start), "end": _utc(a.end), "model": a.model_name,
                    "segment": dict(a.segment), "title": f"{a.metric} {a.direction} {magnitude:.4g}",
                    "text": text, "severity": inc.severity}
        )  # fmt: skip
    for e in result.upstream_events:
        at = _utc(e.at)
        kind = e.kind or "event"
        what = e.change or e.status or kind
        critical = (_defined(e.severity) or 0.0) >= EVENT_CRITICAL_SEVERITY
        rows.append(
            base | {"kind": "pipeline_event", "start": at, "end": at, "model": "", "segment": {},
                    "title": f"{e.pipeline}: {what}",
                    "text": f"{kind} {e.pipeline} dataset={e.dataset} version={e.data_version}",
                    "severity": "critical" if critical else "warning"}
        )  # fmt: skip
    for d in result.data_quality:
        if not d.drift:
            continue
        psi = _defined(d.psi)
        # a histogram-sourced bucket has no KS test (``"ks": null`` in JSON)
        ks = (None, None) if d.ks is None else (_defined(d.ks.estimate), _defined(d.ks.pvalue))
        rows.append(
            base | {"kind": "drift", "start": _utc(d.bucket), "end": _utc(d.end), "model": d.model_name,
                    "segment": {}, "title": f"score drift PSI {psi if psi is not None else math.nan:.3f}",
                    "text": f"KS {ks[0]}, p={ks[1]}, novelty {_defined(d.novelty)}", "severity": "warning"}
        )  # fmt: skip
    return rows


__all__ = [
    "ANNOTATIONS_TABLE",
    "ANNOTATION_COLUMNS",
    "METRIC_COLUMNS",
    "feature_summaries",
    "incident_annotations",
    "missing_rates",
    "model_metrics",
    "score_histograms",
    "score_samples",
    "upstream_events",
    "write_annotations",
]
