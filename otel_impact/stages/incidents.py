"""Incidents stage: model-metric anomalies linked to upstream pipeline events; drift; freshness.

Writes three sections of the result and appends to a fourth:

* ``freshness`` — per configured pipeline (``pipelines:``): last run, when the next is due,
  ``ok``/``late``/``missing``, and the late/missing runs found in the window. Each late or
  missing run becomes a synthetic upstream event.
* ``data_quality`` — per model × bucket after the reference period: PSI and KS of the score
  distribution against the reference (the first ``incidents.drift.reference`` of the analysed
  range), feature-hash novelty, the missing-feature rate, per-feature summaries when the
  services emit ``ml.feature.summary`` events, and whether the bucket counts as drifted.
* ``incidents`` — one entry per anomaly of a watched model metric (``incidents.metrics``) per
  model (and per segment value with ``incidents.segments``), with the upstream events linked to
  it, best first, and ``cause``: ``"upstream"`` when the best link is evidence enough for a
  likely cause (:data:`~otel_impact.analyze.linking.LIKELY_CAUSE_SCORE`), ``"possible"`` when
  only weaker candidates exist, ``"unlinked"`` when nothing upstream preceded it; plus
  ``affected_windows`` (merged anomaly ranges per model, segment and metric) and ``affected``
  flags on the model series of ``result["series"]`` that moved: the same model, segment and
  metric, all versions (other series get all-``false`` flags).
* ``alerts`` — ``incident`` and ``drift`` alerts are appended (other stages' alerts are kept).
  An incident alert is ``critical`` only when the metric moved in its bad direction and the
  best upstream link is strong evidence
  (:data:`~otel_impact.analyze.linking.STRONG_EVIDENCE_SCORE`); a move in the good direction
  (an AUC rise, a latency fall) is ``info``; everything else ``warning``. Rules, thresholds and
  measured false-alarm rates: ``docs/detection.md``.

The metrics are computed over ``[end − incidents.history, end)`` (or the whole window when it is
longer), on buckets aligned to multiples of ``incidents.bucket`` since the epoch, so that an
incremental run over one day still has a baseline; anomalies are reported when they overlap
the analysed window. No clock and no randomness: the same window gives the same result.
:func:`incident_annotations` turns a result into rows for the ``impact_annotations`` table.
"""

from __future__ import annotations

import math
import warnings
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from otel_impact import semconv
from otel_impact.analyze.alerts import fdr_condition
from otel_impact.analyze.anomaly import detect_anomalies
from otel_impact.analyze.bounded import detect_proportion_anomalies
from otel_impact.analyze.drift import KsResult, PsiResult, histogram_deltas, ks, psi, psi_from_counts
from otel_impact.analyze.linking import (
    FAILED_STATUSES,
    LIKELY_CAUSE_SCORE,
    STRONG_EVIDENCE_SCORE,
    Lineage,
    Link,
    UpstreamEvent,
    check_freshness,
    link_events,
    mark_version_changes,
    severity,
)
from otel_impact.context import parse_iso
from otel_impact.records import Alert, make_alert
from otel_impact.stages.graph import Stage
from otel_impact.stages.series import persistence
from otel_impact.store import incidents as store
from otel_impact.store.incidents import incident_annotations

if TYPE_CHECKING:
    from otel_impact.context import JobContext

_NS = 1_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MIN_LABELED = 10  # buckets with fewer labelled predictions give no AUC/accuracy point
NOTABLE_SEVERITY = 0.5  # upstream events at least this severe are listed and annotated
# the direction in which a watched metric getting worse is an incident (None: both)
# per-bucket sample proportions, skewed near their bounds: detected on the asin(√x) scale (analyze/bounded.py)
PROPORTION_METRICS = frozenset({"auc", "accuracy"})
BAD_DIRECTION: dict[str, str | None] = {
    "auc": "down",
    "accuracy": "down",
    "mean_score": None,
    "volume": None,
    "error_rate": "up",
    "latency_p95": "up",
}
SERIES_NAME = {"latency_p95": "latency_p95_ms"}  # watched metric → its name in result["series"]


def _iso(ns: float) -> str:
    return datetime.fromtimestamp(ns / _NS, tz=UTC).isoformat().replace("+00:00", "Z")


def _ns(value: datetime) -> int:
    """Exact integer nanoseconds since the epoch (no float rounding)."""
    return (value - _EPOCH) // timedelta(microseconds=1) * 1000


def _seg(key: str, value: str) -> dict[str, str]:
    return {key: value} if key else {}


def run(ctx: JobContext) -> None:
    """Compute ``freshness``, ``data_quality`` and ``incidents``; append alerts."""
    cfg = ctx.config.incidents
    for key in ("incidents", "data_quality", "freshness", "affected_windows"):
        ctx.result[key] = []
    if not cfg.enabled:
        return
    bucket_ns = int(cfg.bucket * _NS)
    end_ns, win_start_ns = _ns(ctx.window.end), _ns(ctx.window.start)
    start_ns = (min(win_start_ns, end_ns - int(cfg.history * _NS)) // bucket_ns) * bucket_ns
    nb = -(-(end_ns - start_ns) // bucket_ns)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        events = _freshness(ctx, start_ns, end_ns, win_start_ns)
        _data_quality(ctx, start_ns, end_ns, bucket_ns, nb, win_start_ns)
        _incidents(ctx, events, start_ns, end_ns, bucket_ns, nb, win_start_ns)
    for message in dict.fromkeys(str(w.message) for w in caught):  # once each, in order
        ctx.warn(f"incidents: {message}")


# --- freshness and upstream events -----------------------------------------------------------


def _freshness(ctx: JobContext, start_ns: int, end_ns: int, win_start_ns: int) -> list[UpstreamEvent]:
    cfg = ctx.config.incidents
    pipes = ctx.config.pipelines
    lookback = cfg.link_window + max((p.schedule + p.grace for p in pipes.values()), default=0.0)
    cols = store.upstream_events(ctx.client, from_ns=start_ns - int(lookback * _NS), end_ns=end_ns)
    schedules = {name: spec.schedule for name, spec in pipes.items()}
    events = mark_version_changes(
        [
            UpstreamEvent(t / _NS, str(p), str(d), str(s), str(c), str(v), str(k))
            for t, k, p, d, s, c, v in zip(
                cols["t"], cols["kind"], cols["pipeline"], cols["dataset"], cols["status"],
                cols["change"], cols["version"], strict=True,
            )
        ],
        schedules,
    )  # fmt: skip
    gaps: list[UpstreamEvent] = []
    for name in sorted(pipes):
        spec = pipes[name]
        runs = [
            e.at
            for e in events
            if e.pipeline == name
            and e.kind != semconv.EVENT_PIPELINE_INCIDENT
            and e.status not in FAILED_STATUSES
        ]
        f = check_freshness(
            runs, schedule=spec.schedule, grace=spec.grace, start=win_start_ns / _NS, end=end_ns / _NS,
            pipeline=name, dataset=spec.dataset,
        )  # fmt: skip
        gaps.extend(f.gaps)
        ctx.result["freshness"].append(
            {
                semconv.PIPELINE_NAME: name,
                "schedule_s": spec.schedule,
                "grace_s": spec.grace,
                "last_run": _iso(f.last_run * _NS) if math.isfinite(f.last_run) else None,
                "expected": _iso(f.expected_next * _NS) if math.isfinite(f.expected_next) else None,
                "status": f.status,
                "late": f.late,
                "missing": f.missing,
                "runs": f.n,
                "gaps": [{"kind": g.kind, "at": _iso(g.at * _NS)} for g in f.gaps],
            }
        )
    events = sorted(events + gaps, key=lambda e: (e.at, e.pipeline, e.dataset, e.kind))
    ctx.result["upstream_events"] = [
        _event_json(e) | {"severity": severity(e)}
        for e in events
        if e.at * _NS >= win_start_ns and severity(e) >= NOTABLE_SEVERITY
    ]
    return events


def _event_json(e: UpstreamEvent) -> dict[str, Any]:
    return {
        semconv.PIPELINE_NAME: e.pipeline,
        semconv.DATASET_NAME: e.dataset,
        "at": _iso(e.at * _NS),
        "status": e.status,
        "change": e.change,
        semconv.DATA_VERSION: e.version,
        "kind": e.kind,
    }


# --- data quality ----------------------------------------------------------------------------


def _data_quality(
    ctx: JobContext, start_ns: int, end_ns: int, bucket_ns: int, nb: int, win_start_ns: int
) -> None:
    dcfg = ctx.config.incidents.drift
    ref_b = max(1, min(nb - 1, -(-int(dcfg.reference * _NS) // bucket_ns)))
    if nb < 2:
        ctx.warn("incidents: the analysed range holds a single bucket; no drift reference")
        return
    ref_end_ns = start_ns + ref_b * bucket_ns
    models = ctx.config.models
    sc = store.score_samples(
        ctx.client, start_ns=start_ns, end_ns=end_ns, bucket_ns=bucket_ns, ref_end_ns=ref_end_ns,
        sample=dcfg.sample, models=models,
    )  # fmt: skip
    miss = store.missing_rates(
        ctx.client, start_ns=start_ns, end_ns=end_ns, bucket_ns=bucket_ns, models=models
    )
    feats = store.feature_summaries(
        ctx.client, start_ns=start_ns, end_ns=end_ns, bucket_ns=bucket_ns, models=models
    )
    missing = {
        (str(m), int(b)): float(r)
        for m, b, r in zip(miss["model"], miss["b"], miss["missing_rate"], strict=True)
    }
    first_bucket = max(ref_b, (win_start_ns - start_ns) // bucket_ns)
    drift: dict[str, list[tuple[int, PsiResult, KsResult | None, float, str]]] = {}
    noise: dict[str, float] = {}  # the largest day-to-day PSI among the reference buckets
    for model in sorted({str(m) for m in sc["model"]}):
        rows = [i for i in range(len(sc["model"])) if sc["model"][i] == model]
        ref_idx = [i for i in rows if sc["b"][i] < ref_b]
        reference = np.concatenate([sc["scores"][i] for i in ref_idx]) if ref_idx else np.empty(0)
        noise[model] = _reference_psi_noise([sc["scores"][i] for i in ref_idx], dcfg.bins)
        for i in rows:
            if sc["b"][i] >= first_bucket:
                n_hash = int(sc["n_hashes"][i])
                drift.setdefault(model, []).append(
                    (int(sc["b"][i]), psi(reference, sc["scores"][i], bins=dcfg.bins), ks(reference, sc["scores"][i]),
                     sc["n_new_hashes"][i] / n_hash if n_hash else math.nan, "spans")
                )  # fmt: skip
    hist = store.score_histograms(
        ctx.client, start_ns=start_ns, end_ns=end_ns, bucket_ns=bucket_ns, models=models
    )
    for model in sorted({str(m) for m in hist["model"]} - set(drift)):  # models without span scores
        drift[model] = _histogram_drift(hist, model, ref_b, first_bucket, start_ns)
    alerts = ctx.result.setdefault("alerts", [])
    # one Benjamini–Hochberg family: the KS tests of every model × bucket of the run
    ks_p = [
        np.asarray([k.pvalue if k is not None else math.nan for _, _, k, _, _ in drift[m]])
        for m in sorted(drift)
    ]
    ks_sig = dict(zip(sorted(drift), fdr_condition(ks_p, dcfg.ks_alpha), strict=True))
    policy = persistence(ctx)
    for model in sorted(drift):
        fref = _feature_reference(feats, model, ref_b)
        cond = np.full(len(drift[model]), np.nan)
        for j, (b, p, k, nov, source) in enumerate(drift[model]):
            known = p.n >= dcfg.min_count and math.isfinite(p.estimate)
            floor = 1.5 * noise.get(model, 0.0)  # a shift must clearly exceed the reference's day-to-day PSI
            drifted = known and bool(
                (p.estimate >= max(dcfg.psi_alert, floor))
                or (ks_sig[model][j] == 1.0 and p.estimate >= max(dcfg.psi_warn, floor))
                or (nov >= dcfg.novelty_alert)
            )
            cond[j] = float(drifted) if known else math.nan
            at = _iso(start_ns + b * bucket_ns)
            ks_json = (
                {"estimate": k.estimate, "pvalue": k.pvalue, "n": k.n, "method": k.method} if k else None
            )
            ctx.result["data_quality"].append(
                {
                    semconv.ML_MODEL_NAME: model,
                    "bucket": at,
                    "end": _iso(start_ns + (b + 1) * bucket_ns),
                    "n": p.n,
                    "source": source,
                    "psi": p.estimate,
                    "ks": ks_json,
                    "novelty": nov,
                    "missing_rate": missing.get((model, b)),
                    "features": _feature_rows(feats, model, b, fref),
                    "reference": {"start": _iso(start_ns), "end": _iso(ref_end_ns), "n": p.n_reference},
                    "drift": drifted,
                }
            )
        for t in policy.episodes(cond):
            alerts.append(
                _drift_alert(
                    model,
                    t.state,
                    drift[model][t.index],
                    _iso(start_ns + drift[model][t.index][0] * bucket_ns),
                    dcfg.psi_alert,
                )
            )


def _drift_alert(
    model: str, state: str, row: tuple[int, PsiResult, KsResult | None, float, str], at: str, psi_alert: float
) -> Alert:
    """One ``drift`` transition; the message is concatenated from structured fields."""
    _, p, k, nov, _ = row
    ks_text = (
        "KS " + format(k.estimate, ".3f") + " (p=" + format(k.pvalue, ".2g") + ")"
        if k
        else "KS n/a (histogram)"
    )
    figures = "PSI " + format(p.estimate, ".3f") + ", " + ks_text + ", novelty " + format(nov, ".2f")
    firing = state == "firing"
    return make_alert(
        "drift",
        severity=("critical" if p.estimate >= 2 * psi_alert else "warning") if firing else "info",
        state=state,
        at=parse_iso(at),
        message=("score distribution of " + model + " drifted from " + at + ": " + figures)
        if firing
        else ("score distribution of " + model + " back to its reference from " + at + ": " + figures),
        attributes={semconv.ML_MODEL_NAME: model, semconv.METRIC_IMPACT_DRIFT_PSI: p.estimate}
        | ({semconv.METRIC_IMPACT_DRIFT_KS: k.estimate} if k else {}),
    )


def _reference_psi_noise(buckets: list[np.ndarray], bins: int) -> float:
    """The largest PSI of one reference bucket against the other reference buckets.

    Scores of a stable model still move from day to day (traffic mix, label rate): that spread is
    what a real shift must exceed. 0 with fewer than three non-empty reference buckets.
    """
    parts = [b for b in buckets if b.size]
    if len(parts) < 3:
        return 0.0
    out = 0.0
    for k, part in enumerate(parts):
        rest = np.concatenate([b for j, b in enumerate(parts) if j != k])
        value = psi(rest, part, bins=bins).estimate
        if math.isfinite(value):
            out = max(out, value)
    return out


def _histogram_drift(
    hist: dict[str, np.ndarray], model: str, ref_b: int, first_bucket: int, start_ns: int
) -> list[tuple[int, PsiResult, KsResult | None, float, str]]:
    """PSI per bucket from the ``ml.prediction.score`` histogram metric (no KS, no novelty)."""
    rows = [i for i in range(len(hist["model"])) if hist["model"][i] == model]
    layouts: dict[tuple[float, ...], list[int]] = {}
    for i in rows:
        layouts.setdefault(tuple(hist["bounds"][i]), []).append(i)
    if not layouts:
        return []
    rows = max(layouts.values(), key=len)  # the dominant bucket layout; others cannot be summed
    counts = histogram_deltas(
        [str(hist["series"][i]) for i in rows], [int(hist["b"][i]) for i in rows],
        [int(hist["temporality"][i]) == 2 for i in rows],
        [hist["last_counts"][i] if int(hist["temporality"][i]) == 2 else hist["delta_counts"][i] for i in rows],
        from_zero=[int(hist["series_start_ns"][i]) >= start_ns for i in rows],
    )  # fmt: skip
    ref = [c for b, c in counts.items() if b < ref_b]
    if not ref:
        return []
    reference = np.sum(ref, axis=0)
    return [
        (b, psi_from_counts(reference, c), None, math.nan, "histogram")
        for b, c in counts.items()
        if b >= first_bucket
    ]


def _feature_reference(feats: dict[str, np.ndarray], model: str, ref_b: int) -> dict[str, float]:
    out: dict[str, list[tuple[float, float]]] = {}
    for m, f, b, n, miss, mean in zip(
        feats["model"], feats["feature"], feats["b"], feats["n"], feats["missing"], feats["mean"], strict=True
    ):
        if m == model and b < ref_b and math.isfinite(mean):
            out.setdefault(str(f), []).append((mean, n - miss))
    return {
        f: sum(m * w for m, w in v) / sum(w for _, w in v) for f, v in out.items() if sum(w for _, w in v) > 0
    }


def _feature_rows(
    feats: dict[str, np.ndarray], model: str, b: int, ref: dict[str, float]
) -> list[dict[str, Any]]:
    rows = []
    for i in range(len(feats["model"])):
        if feats["model"][i] != model or feats["b"][i] != b:
            continue
        name, n, mean = str(feats["feature"][i]), feats["n"][i], feats["mean"][i]
        rows.append(
            {
                semconv.ML_FEATURE_NAME: name,
                "n": n,
                "missing_rate": feats["missing"][i] / n if n else math.nan,
                "mean": mean,
                "min": feats["min"][i],
                "max": feats["max"][i],
                "mean_delta": mean - ref[name] if name in ref else math.nan,
            }
        )
    return rows


# --- anomalies and links ---------------------------------------------------------------------


def _series(cols: dict[str, np.ndarray], rows: list[int], metric: str, nb: int) -> np.ndarray:
    out = np.full(nb, np.nan)
    for i in rows:
        if metric in ("auc", "accuracy") and cols["n_labeled"][i] < MIN_LABELED:
            continue
        out[int(cols["b"][i])] = cols[metric][i]
    return out


def _incidents(
    ctx: JobContext,
    events: list[UpstreamEvent],
    start_ns: int,
    end_ns: int,
    bucket_ns: int,
    nb: int,
    win_start_ns: int,
) -> None:
    cfg = ctx.config.incidents
    lineage = Lineage.from_maps(*ctx.config.lineage.maps())
    label_until = end_ns + int(max((m.window for m in ctx.config.business_metrics), default=0.0) * _NS)
    cols = store.model_metrics(
        ctx.client, start_ns=start_ns, end_ns=end_ns, bucket_ns=bucket_ns, label_until_ns=label_until,
        threshold=cfg.score_threshold, models=ctx.config.models,
        segment_keys=ctx.config.segments if cfg.segments else (),
    )  # fmt: skip
    groups: dict[tuple[str, str, str], list[int]] = {}
    for i, key in enumerate(zip(cols["model"], cols["seg_key"], cols["seg_value"], strict=True)):
        groups.setdefault((str(key[0]), str(key[1]), str(key[2])), []).append(i)
    alerts = ctx.result.setdefault("alerts", [])
    windows: dict[tuple[str, str, str, str], list[list[Any]]] = {}
    for model, skey, sval in sorted(groups):
        for metric in cfg.metrics:
            values = _series(cols, groups[(model, skey, sval)], metric, nb)
            detect = detect_proportion_anomalies if metric in PROPORTION_METRICS else detect_anomalies
            det = detect(values, alpha=cfg.alpha, period=cfg.period, min_effect=cfg.min_effect)
            for a in det.anomalies:
                a_start, a_end = start_ns + a.start * bucket_ns, min(end_ns, start_ns + a.end * bucket_ns)
                if a_end <= win_start_ns:
                    continue
                links = link_events(
                    a_start / _NS, events, model=model, lineage=lineage, window=cfg.link_window,
                    tolerance=cfg.bucket, min_score=cfg.min_score,
                )  # fmt: skip
                inc = _incident_json(model, metric, skey, sval, a, a_start, a_end, links)
                ctx.result["incidents"].append(inc)
                alerts.append(_incident_alert(inc))
                windows.setdefault((model, skey, sval, metric), []).append([a_start, a_end])
    for (model, skey, sval, moved), spans in sorted(windows.items()):
        spans.sort()
        merged: list[list[int]] = []
        for s, e in spans:
            if merged and s <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        for s, e in merged:
            ctx.result["affected_windows"].append(
                {semconv.ML_MODEL_NAME: model, "segment": _seg(skey, sval), "start": _iso(s), "end": _iso(e),
                 "metrics": [moved]}
            )  # fmt: skip
    _flag_series(ctx.result)


def _cause(links: tuple[Link, ...]) -> str:
    if not links:
        return "unlinked"
    return "upstream" if links[0].score >= LIKELY_CAUSE_SCORE else "possible"


def _incident_json(
    model: str, metric: str, skey: str, sval: str, a: Any, a_start: int, a_end: int, links: tuple[Link, ...]
) -> dict[str, Any]:
    return {
        "anomaly": {
            semconv.ML_MODEL_NAME: model,
            "metric": metric,
            "segment": _seg(skey, sval),
            "start": _iso(a_start),
            "end": _iso(a_end),
            "magnitude": a.estimate,
            "baseline": a.baseline,  # the level before the change (deseasonalised)
            "direction": a.direction,
            "method": a.method,
            "score": a.score,
            "pvalue": a.pvalue,
            "n": a.n,
        },
        "linked": [
            _event_json(lk.event)
            | {"score": lk.score, "lag_s": lk.lag_s, "lineage_distance": lk.distance, "severity": lk.severity}
            for lk in links
        ],
        "cause": _cause(links),
        "severity": _severity(metric, a.direction, links),
        "affected": True,
    }


def _severity(metric: str, direction: str, links: tuple[Link, ...]) -> str:
    """The one severity rule of an incident (its alert and its annotation both carry it)."""
    bad = BAD_DIRECTION.get(metric)
    if bad is not None and direction != bad:
        return "info"  # the metric improved: worth a note, not a page
    if links and links[0].score >= STRONG_EVIDENCE_SCORE:
        return "critical"
    return "warning"


def _incident_alert(inc: dict[str, Any]) -> Alert:
    a, links = inc["anomaly"], inc["linked"]
    model, metric = a[semconv.ML_MODEL_NAME], a["metric"]
    msg = (
        f"{metric} of {model} {a['direction']} by {abs(a['magnitude']):.4g} from {a['start']} ({a['method']})"
    )
    attrs: dict[str, Any] = {semconv.ML_MODEL_NAME: model, semconv.IMPACT_INCIDENT_METRIC: metric}
    top = links[0] if links else None
    if top is not None and inc["cause"] == "upstream":
        what = top["change"] or top["status"] or top["kind"]
        msg += f"; likely cause: {top[semconv.PIPELINE_NAME] or '?'} {what} on {top[semconv.DATASET_NAME] or '?'} at {top['at']}"
        attrs |= {
            semconv.PIPELINE_NAME: top[semconv.PIPELINE_NAME],
            semconv.DATASET_NAME: top[semconv.DATASET_NAME],
        }
    elif top is not None:
        msg += (
            f"; no upstream cause found (weak candidate: {top[semconv.PIPELINE_NAME] or '?'} at {top['at']})"
        )
    else:
        msg += "; no upstream cause found"
    for k, v in a["segment"].items():
        attrs |= {semconv.IMPACT_SEGMENT_KEY: k, semconv.IMPACT_SEGMENT_VALUE: v}
    return make_alert("incident", severity=inc["severity"], state="firing", at=parse_iso(a["start"]), message=msg, attributes=attrs)  # fmt: skip


def _flag_series(result: dict[str, Any]) -> None:
    """``affected`` flags on model series: true on buckets inside an anomaly of that series' own
    metric, model and segment (the all-versions series); per-version and other series get false."""
    series = result.get("series")
    if not isinstance(series, list):
        return
    for s in series:
        if not isinstance(s, dict) or s.get("kind") != "model" or not isinstance(s.get("buckets"), list):
            continue
        model = s.get(semconv.ML_MODEL_NAME)
        wins = [
            w for w in result["affected_windows"]
            if (model is None or w[semconv.ML_MODEL_NAME] == model)
            and w["segment"] == (s.get("segment") or {})
            and s.get(semconv.ML_MODEL_VERSION) is None
            and any(SERIES_NAME.get(m, m) == s.get("name") for m in w["metrics"])
        ]  # fmt: skip
        s["affected"] = [any(w["start"] <= _to_iso(b) < w["end"] for w in wins) for b in s["buckets"]]


def _to_iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return str(value)


INCIDENTS = Stage(
    "incidents",
    run,
    gives=frozenset(
        {
            "result.affected_windows",
            "result.data_quality",
            "result.freshness",
            "result.incidents",
            "result.upstream_events",
        }
    ),
    adds=frozenset({"result.alerts", "result.series"}),
)

__all__ = ["INCIDENTS", "incident_annotations", "run"]
