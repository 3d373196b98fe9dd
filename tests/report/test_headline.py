"""The headline's wording on the recorded demo result: a significant lift, a lift whose CI spans 0
(no ROI claimed) and an empty result. The demo's own headline is pinned in tests/demo/test_demo_e2e.py."""

from __future__ import annotations

from results import recorded

from otel_impact.records import Result
from otel_impact.report.headline import build_headline, significant_lift
from otel_impact.report.html import render_html
from otel_impact.report.summary import summary_lines


def _pct(x: float) -> str:
    return f"{100 * x:+.1f}%"


def test_significant_lift_is_the_headline_with_ci_test_and_n() -> None:
    doc = recorded()
    result = Result.from_json(doc)
    lift, roi, (incident,) = doc["lift"][0], doc["roi"][0], doc["incidents"]
    assert lift["segment"] == {} and significant_lift(result.lift[0])
    lines = build_headline(result).lines()
    start, end = doc["window"]["start"][:10], doc["window"]["end"][:10]
    assert lines[0] == f"Did the model move the business? ({start} .. {end} UTC)"
    arms = "v2 vs v1"
    assert lines[1] == (
        f"- {roi['ml.model.name']} {arms} raised {lift['metric']}: {_pct(lift['estimate'])} per exposed user "
        f"(CI {_pct(lift['ci'][0])} to {_pct(lift['ci'][1])}, Welch t-test p = {lift['pvalue']:.2g}, "
        f"n = {lift['n']:,} users; arms by feature_flag.result.variant)."
    )
    assert lines[3].startswith(f"  - ROI: {roi['roi_pct']:+,.0f}% (incremental value ")
    attention = lines[lines.index("Needs attention:") + 1 :]
    assert attention[0].startswith(f"- INCIDENT {incident['anomaly']['start'][:10]}: ranker auc down from ")
    cause = incident["linked"][0]
    assert (
        f"likely cause: {cause['pipeline.name']} {cause['change']} on {cause['dataset.name']}" in attention[0]
    )
    assert all(not line.startswith("- CRITICAL") for line in attention[1:])  # critical and incidents first
    paging = {(a["rule"], a["severity"]) for a in doc["alerts"]
              if a["rule"] != "incident" and a["severity"] in ("critical", "warning")}  # fmt: skip
    assert len(attention) == 1 + len(
        paging
    )  # one line per rule and severity; info alerts wait for the report


def test_lift_whose_ci_spans_zero_is_no_evidence_and_claims_no_roi() -> None:
    doc = recorded()
    lift = doc["lift"][0]
    lift.update(ci=[-0.02, 0.14], pvalue=0.58)
    doc["roi"][0]["claimed"] = False  # the ROI stage claims nothing on a lift that is not significant
    for row in doc["correlations"]:
        if row["business_metric"] == lift["metric"]:
            row["pvalue"] = 0.3
    result = Result.from_json(doc)
    assert not significant_lift(result.lift[0])
    lines = build_headline(result).lines()
    assert lines[1] == (
        f"- No evidence that ranker v2 vs v1 moved {lift['metric']}: no significant lift or correlation in this window."
    )
    assert lines[2].endswith("— not significant") and "CI -2.0% to +14.0%" in lines[2]
    roi = next(line for line in lines if line.startswith("  - ROI:"))
    assert roi == "  - ROI: not claimed: the lift it rests on is not significant (p = 0.58, CI includes 0)"
    assert f"{doc['roi'][0]['roi_pct']:+,.0f}%" not in "\n".join(lines)
    # the same headline opens the report and the terminal summary
    assert "No evidence that ranker v2 vs v1 moved purchase" in render_html(result)
    assert lines[1] in summary_lines(result)


def test_empty_result_says_nothing_was_analysed() -> None:
    empty = Result.model_construct()  # no section, not even a window (validation would refuse it)
    assert build_headline(empty).lines() == [
        "Did the model move the business? (no window)",
        "- No model or business metric was analysed in this window.",
        "Needs attention: nothing critical, no incidents.",
    ]
