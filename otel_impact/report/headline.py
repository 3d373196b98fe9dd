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

>>> from otel_impact.records import Result, Stitching
>>> h = build_headline(Result.model_construct(stitching=[Stitching.model_construct(business_metric="purchase")]))
>>> h.lines()[1]
'- No evidence that any model moved purchase: no lift, correlation or attribution result in this window.'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from otel_impact import semconv as sc
from otel_impact.records import Alert, Correlation, Lift, Result, ResultWindow, Roi
from otel_impact.report.base import (
    fmt_duration,
    fmt_int,
    fmt_num,
    fmt_p,
    fmt_pct,
    fmt_r,
    fmt_time,
    model_label,
    num,
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


def ci_bounds(ci: Sequence[float | None] | None) -> tuple[float | None, float | None]:
    """``(low, high)`` of a record's ``[low, high]`` interval; ``(None, None)`` when undefined."""
    if ci is not None and len(ci) >= 2:
        return num(ci[0]), num(ci[1])
    return None, None


def window_of(result: Result) -> ResultWindow | None:
    """The result's window; ``None`` for a result assembled without one (the digest's, when no
    analysis ran in the period, or an empty result)."""
    window: ResultWindow | None = getattr(result, "window", None)
    return window


def p_is(p: float | None) -> str:
    """``p = 0.0023`` / ``p < 0.001``."""
    text = fmt_p(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def method_name(method: str | None) -> str:
    m = str(method or "")
    return METHOD_NAMES.get(m, m or "method not recorded")


def significant_lift(row: Lift, alpha: float = ALPHA) -> bool:
    """p below ``alpha`` and the CI excludes 0 (both must agree)."""
    p = num(row.pvalue)
    lo, hi = ci_bounds(row.ci)
    return p is not None and p < alpha and lo is not None and hi is not None and (lo > 0 or hi < 0)


def _arm(arm: dict[str, str]) -> tuple[str, str]:
    if arm:
        k, v = next(iter(arm.items()))
        return str(k), str(v)
    return "", ""


def roi_for(result: Result, metric: str, treat: str) -> Roi | None:
    """The ROI row of the treatment arm ``treat`` on ``metric`` (by arm value or model version)."""
    for r in result.roi:
        same_arm = _arm(r.treatment)[1] == treat if r.treatment else False
        same_version = version_label(r.model_version) == version_label(treat)
        if str(r.metric or metric) == metric and (same_arm or same_version):
            return r
    return None


def lift_model(result: Result, row: Lift) -> str:
    """Who the lift row is about: ``ranker v2 vs v1`` (model from ROI/attribution when known)."""
    attr, treat = _arm(row.treatment)
    _, ctrl = _arm(row.control)
    roi = roi_for(result, str(row.metric), treat)
    name = str(roi.model_name or "") if roi else ""
    models = _models(result)
    if not name and len(models) == 1:
        name = models[0]
    pair = f"{version_label(treat)} vs {version_label(ctrl)}"
    return f"{name} {pair}".strip() if name else f"{attr} {pair}".strip()


def _models(result: Result) -> list[str]:
    out: list[str] = []
    for rows in (result.correlations, result.attribution, result.roi):
        for r in rows:
            name = r.model_name
            if name and str(name) not in out:
                out.append(str(name))
    return out


def _metrics(result: Result) -> list[str]:
    out: list[str] = []
    names = (
        [r.business_metric for r in result.stitching]
        + [r.metric for r in result.lift]
        + [r.business_metric for r in result.correlations]
    )
    for name in names:
        if name and str(name) not in out:
            out.append(str(name))
    return out


def _lift_evidence(result: Result, model: str, metric: str) -> list[Evidence]:
    rows = [r for r in result.lift if r.metric == metric and lift_model(result, r) == model]
    overall = next((r for r in rows if not r.segment), None)
    if overall is None:
        return []
    lo, hi = ci_bounds(overall.ci)
    attr, _ = _arm(overall.treatment)
    sig = significant_lift(overall)
    text = (
        f"{fmt_pct(overall.estimate)} per exposed user "
        f"(CI {fmt_pct(lo)} to {fmt_pct(hi)}, {method_name(overall.method)} {p_is(overall.pvalue)}"
        + (f", n = {fmt_int(overall.n)} users" if num(overall.n) is not None else "")
        + f"; arms by {attr})"
        + ("" if sig else " — not significant")
    )
    out = [Evidence("lift", text, sig)]
    keyed = [r for r in rows if r.segment]
    keys = list(dict.fromkeys(",".join(sorted(r.segment)) for r in keyed))  # segment keys, first seen first
    segs = sorted(keyed, key=lambda r: (keys.index(",".join(sorted(r.segment))), -(num(r.estimate) or 0.0)))
    if segs:
        parts = []
        for r in segs:
            slo, shi = ci_bounds(r.ci)
            parts.append(
                f"{seg_label(r.segment)} {fmt_pct(r.estimate)} [{fmt_pct(slo)}, {fmt_pct(shi)}]"
                + ("" if significant_lift(r) else " n.s.")
            )
        out.append(Evidence("lift by segment", "; ".join(parts) + " (n.s. = not significant)", None))
    roi = roi_for(result, metric, _arm(overall.treatment)[1])
    if roi is not None:
        out.append(Evidence("ROI", roi_sentence(roi, overall), None))
    return out


def roi_sentence(roi: Roi, lift: Lift | None) -> str:
    """ROI only when the lift it rests on is significant; otherwise say why it is not claimed."""
    if not roi.claimed or num(roi.roi_pct) is None:
        p = p_is(lift.pvalue if lift is not None else None)
        return f"not claimed: the lift it rests on is not significant ({p}, CI includes 0)"
    lo, hi = ci_bounds(roi.incremental_value_ci)
    # what is known: the digest reads stored points, which carry ROI and net benefit only
    parts = []
    if num(roi.incremental_value) is not None:
        parts.append(f"incremental value {fmt_num(roi.incremental_value)}")
        if num(lo) is not None and num(hi) is not None:
            parts.append(f"CI {fmt_num(lo)} to {fmt_num(hi)}")
    if num(roi.cost) is not None:
        parts.append(f"against cost {fmt_num(roi.cost)}")
    net = f"net benefit {fmt_num(roi.net_benefit)}"
    return f"{fmt_pct(roi.roi_pct, scale=1)} ({'; '.join(filter(None, [', '.join(parts), net]))})"


def best_correlation(rows: Sequence[Correlation]) -> Correlation | None:
    """All-users row with the smallest corrected p-value (ties: larger |r|)."""
    cands = [r for r in rows if not r.segment and num(r.estimate) is not None]
    if not cands:
        return None
    return min(cands, key=lambda r: (num(r.pvalue) or 1.0, -abs(num(r.estimate) or 0.0)))


def correlation_text(r: Correlation) -> str:
    """The estimate with its method, CI and p-values, saying which are corrected for the lag scan.

    >>> correlation_text(Correlation.model_construct(estimate=0.64, method="pearson", ci=[0.34, 0.82],
    ...     n=28, pvalue_unadjusted=0.0004, pvalue=0.0023, correction="sidak over 6 lags"))
    'r = 0.64 (Pearson, n = 28 buckets; CI 0.34 to 0.82 and p < 0.001 from the same test, uncorrected; p = 0.0023 after Šidák correction over 6 lags)'
    """
    lo, hi = ci_bounds(r.ci)
    raw = r.pvalue_unadjusted
    corr = str(r.correction or "")
    n = f", n = {fmt_int(r.n)} buckets" if num(r.n) is not None else ""
    head = f"r = {fmt_r(r.estimate)} ({method_name(r.method)}{n}; CI {fmt_r(lo)} to {fmt_r(hi)}"
    if raw is not None:
        lags = corr.split(" over ", 1)[-1] if " over " in corr else "the lags scanned"
        return f"{head} and {p_is(raw)} from the same test, uncorrected; {p_is(r.pvalue)} after Šidák correction over {lags})"
    if corr:
        return f"{head}, uncorrected; {p_is(r.pvalue)} corrected for the lags scanned)"
    return f"{head}, {p_is(r.pvalue)})"


def _correlation_evidence(result: Result, model: str, metric: str) -> list[Evidence]:
    name = model.split(" ")[0]
    rows = [
        r for r in result.correlations if r.business_metric == metric and str(r.model_name or name) == name
    ]
    best = best_correlation(rows)
    if best is None:
        return []
    p = num(best.pvalue)
    sig = p is not None and p < ALPHA
    lag = fmt_duration(best.lag_s)
    if num(best.lag_s):
        text = f"{metric} follows {best.model_metric} {lag} later: {correlation_text(best)}"
    else:
        text = f"{metric} moves with {best.model_metric} in the same bucket: {correlation_text(best)}"
    if not sig:
        text += " — not significant after the correction"
    ranking = [
        r
        for r in result.segment_ranking
        if r.business_metric == metric and r.model_metric == best.model_metric
    ]
    if sig and ranking:
        order = sorted(ranking, key=lambda r: num(r.rank) or 0.0)
        text += "; strongest in " + ", then ".join(seg_label(r.segment) for r in order[:3])
    return [Evidence("correlation", text, sig)]


def _attribution_evidence(result: Result, model: str, metric: str) -> list[Evidence]:
    name = model.split(" ")[0]
    rows = [
        r
        for r in result.attribution
        if r.business_metric == metric
        and not r.segment
        and str(r.model_name) == name
        and num(r.value) is not None
    ]
    if not rows:
        return []
    models = [str(r.model) for r in rows]
    how = "last_touch" if "last_touch" in models else models[0]
    parts = [f"{version_label(r.model_version) or 'all'} {fmt_num(r.value)}" for r in rows if r.model == how]
    total = next((r.value_total for r in result.stitching if r.business_metric == metric), None)
    of = f" of {fmt_num(total)} in the window" if num(total) is not None else ""
    return [
        Evidence(
            "attribution", f"{how} credited {metric} to {', '.join(parts)}{of} (credit, not an effect)", None
        )
    ]


Builder = Callable[[Result, str, str], list[Evidence]]
# in order of strength; a quasi-experimental "rollout effect" builder goes after the lift one
EVIDENCE_BUILDERS: list[Builder] = [_lift_evidence, _correlation_evidence, _attribution_evidence]


def _subjects(result: Result) -> list[str]:
    out: list[str] = []
    for r in result.lift:
        m = lift_model(result, r)
        if m not in out:
            out.append(m)
    out += [m for m in _models(result) if m not in out]
    return out


def _finding(result: Result, model: str, metric: str) -> Finding | None:
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


def _attention(result: Result) -> list[Attention]:
    out: list[Attention] = []
    incidents = result.incidents
    critical: dict[tuple[str, str], list[Alert]] = {}
    for a in sorted(result.firing_alerts(), key=lambda a: a.at):
        if str(a.severity).lower() in CRITICAL:
            if incidents and str(a.rule) == "incident":
                continue  # the incident itself is listed below, with its cause
            stem = str(a.message).split(":", 1)[0]
            critical.setdefault((str(a.rule), stem), []).append(a)
    for (rule, _), items in critical.items():
        more = f" (+{len(items) - 1} more)" if len(items) > 1 else ""
        first = items[0]
        out.append(Attention("critical", fmt_time(first.at), f"{rule}: {first.message}{more}"))
    for inc in incidents:
        an = inc.anomaly
        base = num(an.baseline)
        mag = num(an.magnitude)
        what = f"{an.model_name or ''} {an.metric} {an.direction or 'changed'}".strip()
        if base is not None and mag is not None:
            what += f" from {fmt_num(base)} to {fmt_num(base + mag)}"
        what += f" ({seg_label(an.segment)})"
        if inc.linked:
            c = inc.linked[0]
            change = c.change or c.status
            what += f"; likely cause: {c.pipeline}" + (f" {change}" if change else "")
            what += f" on {c.dataset}" + (f" at {fmt_time(c.at)}" if c.at else "")
        else:
            what += "; no upstream cause linked"
        out.append(Attention("incident", fmt_time(an.start), what))
    groups: dict[str, list[Alert]] = {}
    for a in result.firing_alerts():
        if str(a.severity).lower() == "warning":
            groups.setdefault(str(a.rule), []).append(a)
    for items in groups.values():  # all users first among alerts of the same time
        items.sort(key=lambda a: (a.at, bool(a.attributes.get(sc.IMPACT_SEGMENT_KEY))))
    for rule, items in sorted(groups.items(), key=lambda kv: kv[1][0].at):  # by time
        first = items[0]
        more = f" (+{len(items) - 1} more)" if len(items) > 1 else ""
        out.append(Attention("warning", fmt_time(first.at), f"{rule}: {first.message}{more}"))
    return out


def build_headline(result: Result) -> Headline:
    """The headline of a result (see the module docstring)."""
    window = window_of(result)
    span = f"{fmt_time(window.start)} .. {fmt_time(window.end)} UTC" if window else "no window"
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


def model_names(result: Result) -> list[str]:
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
    "ci_bounds",
    "correlation_text",
    "lift_model",
    "method_name",
    "model_label",
    "model_names",
    "roi_sentence",
    "significant_lift",
    "window_of",
]
