"""The answer first: per model and business metric, did the model move it, and how sure is that?

:func:`build_headline` is a pure function of the result document; the HTML and Markdown
reports, the terminal summary and the review digest all print its :meth:`Headline.lines`, so
the four never disagree. For each model (and the version pair of an A/B comparison) and each
business metric it picks the strongest evidence in this order:

1. **lift** (randomised comparison, causal): relative lift with its CI, the Welch p-value and
   ``n``; *significant* when the p-value is below ``alpha`` **and** the CI excludes 0;
2. **rollout effect** rows, when present (quasi-experimental estimates, see
   :data:`EVIDENCE_BUILDERS`);
3. **lagged correlation** (association, not causation): the best lag's ``r`` with its CI, the
   method named, the unadjusted p-value (same procedure as the CI) and the p-value corrected for
   the lags scanned; *significant* only when the corrected p-value is below ``alpha``;
4. **attributed value** (credit, not an effect): what the attribution model credited to each
   version.

The verdict reads "moved" (significant lift), "moves with" (significant correlation only) or
"no evidence that … moved …". Under the verdicts, what needs attention: critical alerts,
incidents with their linked upstream cause, and still-firing warnings grouped by rule.

>>> h = build_headline({"stitching": [{"business_metric": "purchase"}]})
>>> h.lines()[1]
'- No evidence that any model moved purchase: no lift, correlation or attribution result in this window.'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from otel_impact import semconv as sc
from otel_impact.report.base import (
    ci_of,
    fmt_duration,
    fmt_int,
    fmt_num,
    fmt_p,
    fmt_pct,
    fmt_r,
    fmt_time,
    model_label,
    num,
    rows_of,
    seg_label,
    version_label,
)

ALPHA = 0.05
METHOD_NAMES = {"pearson": "Pearson", "spearman": "Spearman", "welch": "Welch t-test", "ols-hac": "OLS (HAC)"}
CRITICAL = ("critical", "error", "high")


@dataclass(frozen=True)
class Evidence:
    """One piece of evidence about a (model, business metric) pair, as a sentence."""

    kind: str  # "lift" | "rollout effect" | "correlation" | "attribution" | "roi"
    text: str
    significant: bool | None  # None: not a test (attribution)


@dataclass(frozen=True)
class Finding:
    """The verdict for one model (or version pair) and one business metric."""

    model: str
    metric: str
    verdict: str  # "moved" | "moves with" | "no evidence"
    sentence: str
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True)
class Attention:
    severity: str  # "critical" | "incident" | "warning"
    at: str
    text: str


@dataclass(frozen=True)
class Headline:
    window: str
    findings: tuple[Finding, ...]
    attention: tuple[Attention, ...]

    def lines(self, *, evidence: bool = True) -> list[str]:
        """Plain-text lines (Markdown list items): verdicts, their evidence, then attention."""
        out = [f"Did the model move the business? ({self.window})"]
        for f in self.findings:
            out.append(f"- {f.sentence}")
            if evidence:
                out += [f"  - {e.kind}: {e.text}" for e in f.evidence]
        if not self.findings:
            out.append("- No model or business metric was analysed in this window.")
        out.append(
            "Needs attention:" if self.attention else "Needs attention: nothing critical, no incidents."
        )
        out += [f"- {a.severity.upper()} {a.at}: {a.text}" for a in self.attention]
        return out


def p_is(p: Any) -> str:
    """``p = 0.0023`` / ``p < 0.001``."""
    text = fmt_p(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def method_name(method: Any) -> str:
    m = str(method or "")
    return METHOD_NAMES.get(m, m or "method not recorded")


def significant_lift(row: Mapping[str, Any], alpha: float = ALPHA) -> bool:
    """p below ``alpha`` and the CI excludes 0 (both must agree)."""
    p = num(row.get("pvalue"))
    lo, hi = ci_of(row)
    return p is not None and p < alpha and lo is not None and hi is not None and (lo > 0 or hi < 0)


def _arm(arm: Any) -> tuple[str, str]:
    if isinstance(arm, Mapping) and arm:
        k, v = next(iter(arm.items()))
        return str(k), str(v)
    return "", str(arm or "")


def roi_for(result: Mapping[str, Any], metric: str, treat: str) -> Mapping[str, Any] | None:
    """The ROI row of the treatment arm ``treat`` on ``metric`` (by arm value or model version)."""
    for r in rows_of(result, "roi"):
        same_arm = _arm(r.get("treatment"))[1] == treat if r.get("treatment") else False
        same_version = version_label(r.get(sc.ML_MODEL_VERSION)) == version_label(treat)
        if str(r.get("metric", metric)) == metric and (same_arm or same_version):
            return r
    return None


def lift_model(result: Mapping[str, Any], row: Mapping[str, Any]) -> str:
    """Who the lift row is about: ``ranker v2 vs v1`` (model from ROI/attribution when known)."""
    attr, treat = _arm(row.get("treatment"))
    _, ctrl = _arm(row.get("control"))
    roi = roi_for(result, str(row.get("metric")), treat)
    name = str(roi.get(sc.ML_MODEL_NAME) or "") if roi else ""
    models = _models(result)
    if not name and len(models) == 1:
        name = models[0]
    pair = f"{version_label(treat)} vs {version_label(ctrl)}"
    return f"{name} {pair}".strip() if name else f"{attr} {pair}".strip()


def _models(result: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    for key in ("correlations", "attribution", "roi"):
        for r in rows_of(result, key):
            name = r.get(sc.ML_MODEL_NAME)
            if name and str(name) not in out:
                out.append(str(name))
    return out


def _metrics(result: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    for key, field in (
        ("stitching", "business_metric"),
        ("lift", "metric"),
        ("correlations", "business_metric"),
    ):
        for r in rows_of(result, key):
            if r.get(field) and str(r[field]) not in out:
                out.append(str(r[field]))
    return out


def _lift_evidence(result: Mapping[str, Any], model: str, metric: str) -> list[Evidence]:
    rows = [
        r for r in rows_of(result, "lift") if r.get("metric") == metric and lift_model(result, r) == model
    ]
    overall = next((r for r in rows if not r.get("segment")), None)
    if overall is None:
        return []
    lo, hi = ci_of(overall)
    attr, _ = _arm(overall.get("treatment"))
    sig = significant_lift(overall)
    text = (
        f"{fmt_pct(overall.get('estimate'))} per exposed user "
        f"(CI {fmt_pct(lo)} to {fmt_pct(hi)}, {method_name(overall.get('method'))} {p_is(overall.get('pvalue'))}"
        + (f", n = {fmt_int(overall.get('n'))} users" if num(overall.get("n")) is not None else "")
        + f"; arms by {attr})"
        + ("" if sig else " — not significant")
    )
    out = [Evidence("lift", text, sig)]
    keyed = [r for r in rows if r.get("segment")]
    keys = list(
        dict.fromkeys(",".join(sorted(r["segment"])) for r in keyed)
    )  # segment keys, first seen first
    segs = sorted(
        keyed, key=lambda r: (keys.index(",".join(sorted(r["segment"]))), -(num(r.get("estimate")) or 0.0))
    )
    if segs:
        parts = []
        for r in segs:
            slo, shi = ci_of(r)
            parts.append(
                f"{seg_label(r.get('segment'))} {fmt_pct(r.get('estimate'))} [{fmt_pct(slo)}, {fmt_pct(shi)}]"
                + ("" if significant_lift(r) else " n.s.")
            )
        out.append(Evidence("lift by segment", "; ".join(parts) + " (n.s. = not significant)", None))
    roi = roi_for(result, metric, _arm(overall.get("treatment"))[1])
    if roi is not None:
        out.append(Evidence("ROI", roi_sentence(roi, overall), None))
    return out


def roi_sentence(roi: Mapping[str, Any], lift: Mapping[str, Any] | None) -> str:
    """ROI only when the lift it rests on is significant; otherwise say why it is not claimed."""
    claimed = roi.get("claimed")
    if claimed is None:
        claimed = lift is not None and significant_lift(lift)
    if not claimed or num(roi.get("roi_pct")) is None:
        p = p_is((lift or {}).get("pvalue"))
        return f"not claimed: the lift it rests on is not significant ({p}, CI includes 0)"
    lo, hi = ci_of(roi, "incremental_value_ci")
    # what is known: the digest reads stored points, which carry ROI and net benefit only
    parts = []
    if num(roi.get("incremental_value")) is not None:
        parts.append(f"incremental value {fmt_num(roi.get('incremental_value'))}")
        if num(lo) is not None and num(hi) is not None:
            parts.append(f"CI {fmt_num(lo)} to {fmt_num(hi)}")
    if num(roi.get("cost")) is not None:
        parts.append(f"against cost {fmt_num(roi.get('cost'))}")
    net = f"net benefit {fmt_num(roi.get('net_benefit'))}"
    return f"{fmt_pct(roi.get('roi_pct'), scale=1)} ({'; '.join(filter(None, [', '.join(parts), net]))})"


def best_correlation(rows: list[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """All-users row with the smallest corrected p-value (ties: larger |r|)."""
    cands = [r for r in rows if not r.get("segment") and num(r.get("estimate")) is not None]
    if not cands:
        return None
    return min(cands, key=lambda r: (num(r.get("pvalue")) or 1.0, -abs(num(r.get("estimate")) or 0.0)))


def correlation_text(r: Mapping[str, Any]) -> str:
    """The estimate with its method, CI and p-values, saying which are corrected for the lag scan.

    >>> correlation_text({"estimate": 0.64, "method": "pearson", "ci": [0.34, 0.82], "n": 28,
    ...     "pvalue_unadjusted": 0.0004, "pvalue": 0.0023, "correction": "sidak over 6 lags"})
    'r = 0.64 (Pearson, n = 28 buckets; CI 0.34 to 0.82 and p < 0.001 from the same test, uncorrected; p = 0.0023 after Šidák correction over 6 lags)'
    """
    lo, hi = ci_of(r)
    raw = r.get("pvalue_unadjusted")
    corr = str(r.get("correction") or "")
    n = f", n = {fmt_int(r.get('n'))} buckets" if num(r.get("n")) is not None else ""
    head = f"r = {fmt_r(r.get('estimate'))} ({method_name(r.get('method'))}{n}; CI {fmt_r(lo)} to {fmt_r(hi)}"
    if raw is not None:
        lags = corr.split(" over ", 1)[-1] if " over " in corr else "the lags scanned"
        return f"{head} and {p_is(raw)} from the same test, uncorrected; {p_is(r.get('pvalue'))} after Šidák correction over {lags})"
    if corr:
        return f"{head}, uncorrected; {p_is(r.get('pvalue'))} corrected for the lags scanned)"
    return f"{head}, {p_is(r.get('pvalue'))})"


def _correlation_evidence(result: Mapping[str, Any], model: str, metric: str) -> list[Evidence]:
    name = model.split(" ")[0]
    rows = [
        r
        for r in rows_of(result, "correlations")
        if r.get("business_metric") == metric and str(r.get(sc.ML_MODEL_NAME) or name) == name
    ]
    best = best_correlation(rows)
    if best is None:
        return []
    p = num(best.get("pvalue"))
    sig = p is not None and p < ALPHA
    lag = fmt_duration(best.get("lag_s"))
    if num(best.get("lag_s")):
        text = f"{metric} follows {best.get('model_metric')} {lag} later: {correlation_text(best)}"
    else:
        text = f"{metric} moves with {best.get('model_metric')} in the same bucket: {correlation_text(best)}"
    if not sig:
        text += " — not significant after the correction"
    ranking = [
        r
        for r in rows_of(result, "segment_ranking")
        if r.get("business_metric") == metric and r.get("model_metric") == best.get("model_metric")
    ]
    if sig and ranking:
        order = sorted(ranking, key=lambda r: num(r.get("rank")) or 0.0)
        text += "; strongest in " + ", then ".join(seg_label(r.get("segment")) for r in order[:3])
    return [Evidence("correlation", text, sig)]


def _attribution_evidence(result: Mapping[str, Any], model: str, metric: str) -> list[Evidence]:
    name = model.split(" ")[0]
    rows = [
        r
        for r in rows_of(result, "attribution")
        if r.get("business_metric") == metric
        and not r.get("segment")
        and str(r.get(sc.ML_MODEL_NAME)) == name
        and num(r.get("value")) is not None
    ]
    if not rows:
        return []
    models = [str(r.get("model")) for r in rows]
    how = "last_touch" if "last_touch" in models else models[0]
    parts = [
        f"{version_label(r.get(sc.ML_MODEL_VERSION)) or 'all'} {fmt_num(r.get('value'))}"
        for r in rows
        if r.get("model") == how
    ]
    total = next(
        (r.get("value_total") for r in rows_of(result, "stitching") if r.get("business_metric") == metric),
        None,
    )
    of = f" of {fmt_num(total)} in the window" if num(total) is not None else ""
    return [
        Evidence(
            "attribution", f"{how} credited {metric} to {', '.join(parts)}{of} (credit, not an effect)", None
        )
    ]


Builder = Callable[[Mapping[str, Any], str, str], list[Evidence]]
# in order of strength; a quasi-experimental "rollout effect" builder goes after the lift one
EVIDENCE_BUILDERS: list[Builder] = [_lift_evidence, _correlation_evidence, _attribution_evidence]


def _subjects(result: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    for r in rows_of(result, "lift"):
        m = lift_model(result, r)
        if m not in out:
            out.append(m)
    out += [m for m in _models(result) if m not in out]
    return out


def _finding(result: Mapping[str, Any], model: str, metric: str) -> Finding | None:
    ev: list[Evidence] = []
    for build in EVIDENCE_BUILDERS:
        ev += build(result, model, metric)
    if not ev or (" vs " in model and not any(e.kind in ("lift", "rollout effect") for e in ev)):
        return None  # a version pair without a comparison on this metric: the plain model speaks
    causal = [e for e in ev if e.kind in ("lift", "rollout effect") and e.significant]
    assoc = [e for e in ev if e.kind == "correlation" and e.significant]
    if causal:
        up = not causal[0].text.startswith("-")
        sentence = f"{model} {'raised' if up else 'lowered'} {metric}: {causal[0].text}."
        verdict = "moved"
    elif assoc:
        sentence = f"{model.split(' ')[0]} moves with {metric} (association, not proof of an effect): {assoc[0].text}."
        verdict = "moves with"
    else:
        sentence = (
            f"No evidence that {model} moved {metric}: no significant lift or correlation in this window."
        )
        verdict = "no evidence"
    rest = tuple(
        e for e in ev if not (causal and e is causal[0]) and not (not causal and assoc and e is assoc[0])
    )
    return Finding(model, metric, verdict, sentence, rest)


def _attention(result: Mapping[str, Any]) -> list[Attention]:
    out: list[Attention] = []
    alerts = rows_of(result, "alerts")
    incidents = rows_of(result, "incidents")
    critical: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for a in sorted(alerts, key=lambda a: str(a.get("at"))):
        if str(a.get("severity", "")).lower() in CRITICAL and a.get("state", "firing") == "firing":
            if incidents and str(a.get("rule")) == "incident":
                continue  # the incident itself is listed below, with its cause
            stem = str(a.get("message", "")).split(":", 1)[0]
            critical.setdefault((str(a.get("rule")), stem), []).append(a)
    for (rule, _), items in critical.items():
        more = f" (+{len(items) - 1} more)" if len(items) > 1 else ""
        first = items[0]
        out.append(
            Attention("critical", fmt_time(first.get("at")), f"{rule}: {first.get('message', '')}{more}")
        )
    for inc in incidents:
        an = inc.get("anomaly") or {}
        linked = [r for r in inc.get("linked") or [] if isinstance(r, Mapping)]
        base = num(an.get("baseline"))
        mag = num(an.get("magnitude"))
        what = (
            f"{an.get(sc.ML_MODEL_NAME) or ''} {an.get('metric')} {an.get('direction') or 'changed'}".strip()
        )
        if base is not None and mag is not None:
            what += f" from {fmt_num(base)} to {fmt_num(base + mag)}"
        what += f" ({seg_label(an.get('segment'))})"
        if linked:
            c = linked[0]
            change = c.get("change") or c.get("status")
            what += f"; likely cause: {c.get(sc.PIPELINE_NAME, '?')}" + (f" {change}" if change else "")
            what += f" on {c.get(sc.DATASET_NAME, '?')}" + (
                f" at {fmt_time(c.get('at'))}" if c.get("at") else ""
            )
        else:
            what += "; no upstream cause linked"
        out.append(Attention("incident", fmt_time(an.get("start")), what))
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for a in alerts:
        if str(a.get("severity", "")).lower() == "warning" and a.get("state", "firing") == "firing":
            groups.setdefault(str(a.get("rule")), []).append(a)
    for items in groups.values():  # all users first among alerts of the same time
        items.sort(
            key=lambda a: (str(a.get("at")), bool((a.get("attributes") or {}).get(sc.IMPACT_SEGMENT_KEY)))
        )
    for rule, items in sorted(groups.items(), key=lambda kv: str(kv[1][0].get("at"))):  # by time
        first = items[0]
        more = f" (+{len(items) - 1} more)" if len(items) > 1 else ""
        out.append(
            Attention("warning", fmt_time(first.get("at")), f"{rule}: {first.get('message', '')}{more}")
        )
    return out


def build_headline(result: Mapping[str, Any]) -> Headline:
    """The headline of a result document (see the module docstring)."""
    window = result.get("window") or {}
    span = f"{fmt_time(window.get('start'))} .. {fmt_time(window.get('end'))} UTC" if window else "no window"
    findings: list[Finding] = []
    metrics = _metrics(result)
    subjects = _subjects(result)
    for metric in metrics:
        got = [f for s in subjects if (f := _finding(result, s, metric)) is not None]
        # a version pair's finding covers its model's correlation and attribution
        pairs = {f.model.split(" ")[0] for f in got if " vs " in f.model}
        got = [f for f in got if " vs " in f.model or f.model not in pairs]
        if not got:
            got = [
                Finding(
                    "any model",
                    metric,
                    "no evidence",
                    f"No evidence that any model moved {metric}: no lift, correlation or attribution result "
                    "in this window.",
                    (),
                )
            ]
        findings += got
    order = {"moved": 0, "moves with": 1, "no evidence": 2}
    findings.sort(key=lambda f: order.get(f.verdict, 3))
    return Headline(span, tuple(findings), tuple(_attention(result)))


def model_names(result: Mapping[str, Any]) -> list[str]:
    """Model labels as the headline spells them (``ranker v2 vs v1``, ``ranker``)."""
    return _subjects(result)


__all__ = [
    "ALPHA",
    "EVIDENCE_BUILDERS",
    "Attention",
    "Evidence",
    "Finding",
    "Headline",
    "best_correlation",
    "build_headline",
    "correlation_text",
    "lift_model",
    "method_name",
    "model_label",
    "model_names",
    "roi_sentence",
    "significant_lift",
]
