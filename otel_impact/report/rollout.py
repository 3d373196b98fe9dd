"""Report section "Rollout impact without an A/B test" and the headline records it leads with.

:func:`rollout_headlines` gives one frozen :class:`RolloutHeadline` per (rollout, metric,
segment): the preferred estimate of the rollout-impact stage (synthetic control when its
pre-period fit holds, else DiD with parallel pre-trends, else the interrupted time series) and a
one-line sentence that never claims more than the verdict allows. :func:`rollout_section` shows
every estimate with its diagnostics and, next to each, the assumptions it rests on.

A preferred synthetic-control estimate of +5 % (CI +2 % .. +8 %) for ``ranker v2`` on ``revenue``
in ``market=de`` reads ``ranker v2 changed revenue by +5.0 % (95 % CI +2.0 % .. +8.0 %) in
market=de (synthetic control)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from otel_impact.records import Result, RolloutEffect
from otel_impact.report import svg
from otel_impact.report.base import Section, Table, ci_of, fmt, num, seg_label

_METHOD = {
    "synthetic_control": "synthetic control",
    "did_ar1": "difference-in-differences",
    "its_segmented_ar1": "interrupted time series",
}


@dataclass(frozen=True)
class RolloutHeadline:
    """The preferred estimate of one rollout on one metric in one segment ({} = all users)."""

    rollout: str
    metric: str
    segment: dict[str, str]
    method: str
    estimate: float | None
    ci: tuple[float | None, float | None]
    pvalue: float | None
    verdict: str  # effect | no_effect | caution | refused
    sentence: str


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:+.1f} %"


def _effects(result: Result) -> list[RolloutEffect]:
    return result.rollout_impact.effects if result.rollout_impact is not None else []


def _sentence(r: RolloutEffect) -> str:
    lo, hi = ci_of(r)
    where = seg_label(r.segment)
    who, metric = r.rollout, r.metric
    method = _METHOD.get(r.method, r.method)
    verdict = r.verdict_kind
    level = num(r.level) or 0.95
    band = f"{100 * level:.0f} % CI {_pct(lo)} .. {_pct(hi)}"
    if verdict == "refused":
        return f"{who}: no claim on {metric} in {where} — {r.verdict or 'no usable estimate'} ({method})"
    if verdict == "no_effect":
        return f"{who}: no detectable change in {metric} in {where} ({band}, {method})"
    text = f"{who} changed {metric} by {_pct(num(r.estimate))} ({band}) in {where} ({method})"
    return text + (
        " — caution: a fake rollout in the pre-period also shows an effect" if verdict == "caution" else ""
    )


def rollout_headlines(result: Result) -> list[RolloutHeadline]:
    """One headline per (rollout, metric, segment): the stage's preferred estimate."""
    return [
        RolloutHeadline(
            rollout=r.rollout,
            metric=r.metric,
            segment=dict(r.segment),
            method=r.method,
            estimate=num(r.estimate),
            ci=ci_of(r),
            pvalue=num(r.pvalue),
            verdict=r.verdict_kind,
            sentence=_sentence(r),
        )
        for r in _effects(result)
        if r.preferred
    ]


def _diagnostics(r: RolloutEffect) -> str:
    if r.method == "synthetic_control":
        top = sorted((r.weights or {}).items(), key=lambda kv: -(num(kv[1]) or 0.0))[:5]
        return (
            f"pre-fit RMSPE {fmt(num(r.pre_rmspe))} ({_pct(num(r.pre_rmspe_relative))[1:]} of level); "
            f"placebo p {fmt(num(r.pvalue))} of {len(r.placebo_ratios or []) + 1}; "
            f"weights {', '.join(f'{k} {fmt(num(v))}' for k, v in top if (num(v) or 0) > 0.005)}; "
            f"placebo in time {_pct(num(r.placebo_in_time_estimate))}"
            + (
                "; matched on predictors, V "
                + ", ".join(f"{k} {fmt(num(v))}" for k, v in r.predictor_v.items())
                if r.predictor_v
                else ""
            )
        )
    if r.method == "did_ar1":
        return f"pre-trend slope {fmt(num(r.pretrend_slope))} (p {fmt(num(r.pretrend_pvalue))})"
    return (
        f"level {fmt(num(r.level_change))}, slope {fmt(num(r.slope_change))}/bucket; "
        f"cumulative {fmt(num(r.cumulative))}; placebo in time p {fmt(num(r.placebo_pvalue))}"
    )


def rollout_section(result: Result) -> Section:
    """Every rollout estimate with its diagnostics, verdict and assumptions."""
    sec = Section("rollout-impact", "Rollout impact without an A/B test")
    rows = _effects(result)
    if not rows:
        return sec
    for h in rollout_headlines(result):
        sec.notes.append(h.sentence)
    preferred = [r for r in rows if r.preferred]
    sec.charts.append(
        svg.bar_chart(
            [f"{r.metric} · {seg_label(r.segment)}" for r in preferred],
            [num(r.estimate) for r in preferred],
            ci=[ci_of(r) for r in preferred],
            title="Relative rollout effect (preferred method) with confidence interval",
        )
    )
    sec.tables.append(
        Table(
            [
                "rollout",
                "metric",
                "segment",
                "since",
                "method",
                "effect",
                "CI",
                "p",
                "MDE",
                "verdict",
                "diagnostics",
            ],
            [
                [
                    fmt(r.rollout),
                    fmt(r.metric),
                    seg_label(r.segment),
                    fmt(r.rollout_at),
                    _METHOD.get(r.method, fmt(r.method)) + (" ★" if r.preferred else ""),
                    _pct(num(r.estimate)),
                    f"{_pct(ci_of(r)[0])} .. {_pct(ci_of(r)[1])}",
                    fmt(num(r.pvalue)),
                    _pct(num(r.mde_relative)),
                    fmt(r.verdict_kind),
                    _diagnostics(r),
                ]
                for r in rows
            ],
        )
    )
    seen: set[tuple[str, ...]] = set()
    assumptions = []
    for r in rows:
        method = _METHOD.get(r.method, r.method)
        items = tuple(r.assumptions)
        if (method, *items) not in seen:
            seen.add((method, *items))
            # one assumption per row: each is a sentence a reader checks on its own
            assumptions += [[method if i == 0 else "", item] for i, item in enumerate(items)]
    sec.tables.append(Table(["method", "assumes"], assumptions))
    sec.notes.append("★ = the estimate the headline uses. Effects are relative to the counterfactual level.")
    return sec


__all__ = ["RolloutHeadline", "rollout_headlines", "rollout_section"]
