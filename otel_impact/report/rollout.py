"""Report section "Rollout impact without an A/B test" and the headline records it leads with.

:func:`rollout_headlines` gives one frozen :class:`RolloutHeadline` per (rollout, metric,
segment): the preferred estimate of the rollout-impact stage (synthetic control when its
pre-period fit holds, else DiD with parallel pre-trends, else the interrupted time series) and a
one-line sentence that never claims more than the verdict allows. :func:`rollout_section` shows
every estimate with its diagnostics and, next to each, the assumptions it rests on.

>>> doc = {"rollout_impact": {"effects": [{"rollout": "ranker v2", "metric": "revenue",
...     "segment": {"market": "de"}, "method": "synthetic_control", "estimate": 0.05,
...     "ci": [0.02, 0.08], "pvalue": 0.2, "verdict_kind": "effect", "preferred": True}]}}
>>> rollout_headlines(doc)[0].sentence
'ranker v2 changed revenue by +5.0 % (95 % CI +2.0 % .. +8.0 %) in market=de (synthetic control)'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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


def _effects(result: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    section = result.get("rollout_impact")
    rows = section.get("effects") if isinstance(section, Mapping) else None
    return [r for r in rows if isinstance(r, Mapping)] if isinstance(rows, list) else []


def _sentence(r: Mapping[str, Any]) -> str:
    lo, hi = ci_of(r)
    where = seg_label(r.get("segment"))
    who, metric = str(r.get("rollout", "the rollout")), str(r.get("metric", ""))
    method = _METHOD.get(str(r.get("method")), str(r.get("method")))
    verdict = str(r.get("verdict_kind", ""))
    level = num(r.get("level")) or 0.95
    band = f"{100 * level:.0f} % CI {_pct(lo)} .. {_pct(hi)}"
    if verdict == "refused":
        return (
            f"{who}: no claim on {metric} in {where} — {r.get('verdict') or 'no usable estimate'} ({method})"
        )
    if verdict == "no_effect":
        return f"{who}: no detectable change in {metric} in {where} ({band}, {method})"
    text = f"{who} changed {metric} by {_pct(num(r.get('estimate')))} ({band}) in {where} ({method})"
    return text + (
        " — caution: a fake rollout in the pre-period also shows an effect" if verdict == "caution" else ""
    )


def rollout_headlines(result: Mapping[str, Any]) -> list[RolloutHeadline]:
    """One headline per (rollout, metric, segment): the stage's preferred estimate."""
    out = []
    for r in _effects(result):
        if not r.get("preferred"):
            continue
        seg = r.get("segment")
        out.append(
            RolloutHeadline(
                rollout=str(r.get("rollout", "")),
                metric=str(r.get("metric", "")),
                segment={str(k): str(v) for k, v in seg.items()} if isinstance(seg, Mapping) else {},
                method=str(r.get("method", "")),
                estimate=num(r.get("estimate")),
                ci=ci_of(r),
                pvalue=num(r.get("pvalue")),
                verdict=str(r.get("verdict_kind", "")),
                sentence=_sentence(r),
            )
        )
    return out


def _diagnostics(r: Mapping[str, Any]) -> str:
    method = r.get("method")
    if method == "synthetic_control":
        weights = r.get("weights") if isinstance(r.get("weights"), Mapping) else {}
        top = sorted(weights.items(), key=lambda kv: -(num(kv[1]) or 0.0))[:5]  # type: ignore[union-attr]
        return (
            f"pre-fit RMSPE {fmt(num(r.get('pre_rmspe')))} ({_pct(num(r.get('pre_rmspe_relative')))[1:]} of level); "
            f"placebo p {fmt(num(r.get('pvalue')))} of {len(r.get('placebo_ratios') or []) + 1}; "
            f"weights {', '.join(f'{k} {fmt(num(v))}' for k, v in top if (num(v) or 0) > 0.005)}; "
            f"placebo in time {_pct(num(r.get('placebo_in_time_estimate')))}"
        )
    if method == "did_ar1":
        return f"pre-trend slope {fmt(num(r.get('pretrend_slope')))} (p {fmt(num(r.get('pretrend_pvalue')))})"
    return (
        f"level {fmt(num(r.get('level_change')))}, slope {fmt(num(r.get('slope_change')))}/bucket; "
        f"cumulative {fmt(num(r.get('cumulative')))}; placebo in time p {fmt(num(r.get('placebo_pvalue')))}"
    )


def rollout_section(result: Mapping[str, Any]) -> Section:
    """Every rollout estimate with its diagnostics, verdict and assumptions."""
    sec = Section("rollout-impact", "Rollout impact without an A/B test")
    rows = _effects(result)
    if not rows:
        return sec
    for h in rollout_headlines(result):
        sec.notes.append(h.sentence)
    preferred = [r for r in rows if r.get("preferred")]
    sec.charts.append(
        svg.bar_chart(
            [f"{r.get('metric')} · {seg_label(r.get('segment'))}" for r in preferred],
            [num(r.get("estimate")) for r in preferred],
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
                    fmt(r.get("rollout")),
                    fmt(r.get("metric")),
                    seg_label(r.get("segment")),
                    fmt(r.get("rollout_at")),
                    _METHOD.get(str(r.get("method")), fmt(r.get("method")))
                    + (" ★" if r.get("preferred") else ""),
                    _pct(num(r.get("estimate"))),
                    f"{_pct(ci_of(r)[0])} .. {_pct(ci_of(r)[1])}",
                    fmt(num(r.get("pvalue"))),
                    _pct(num(r.get("mde_relative"))),
                    fmt(r.get("verdict_kind")),
                    _diagnostics(r),
                ]
                for r in rows
            ],
        )
    )
    seen: set[tuple[str, ...]] = set()
    assumptions = []
    for r in rows:
        method = _METHOD.get(str(r.get("method")), str(r.get("method")))
        items = tuple(str(a) for a in r.get("assumptions") or [])
        if (method, *items) not in seen:
            seen.add((method, *items))
            # one assumption per row: each is a sentence a reader checks on its own
            assumptions += [[method if i == 0 else "", item] for i, item in enumerate(items)]
    sec.tables.append(Table(["method", "assumes"], assumptions))
    sec.notes.append("★ = the estimate the headline uses. Effects are relative to the counterfactual level.")
    return sec


__all__ = ["RolloutHeadline", "rollout_headlines", "rollout_section"]
