"""The headline's wording: a significant lift, a lift whose CI spans 0 (no ROI claimed) and an
empty result. The demo's own headline is pinned in tests/demo/test_demo_e2e.py."""

from __future__ import annotations

from results import full_result

from otel_impact.export.headline import build_headline, significant_lift
from otel_impact.export.report_html import render_html
from otel_impact.export.summary import summary_lines


def test_significant_lift_is_the_headline_with_ci_test_and_n() -> None:
    doc = full_result()
    doc["roi"][0]["metric"] = "purchase"
    lines = build_headline(doc).lines()
    assert lines == [
        "Did the model move the business? (2026-11-01 .. 2026-11-05 UTC)",
        "- recommender v2 vs v1 raised purchase: +6.2% per exposed user (CI +2.1% to +10.4%, Welch t-test "
        "p = 0.003, n = 5,400 users; arms by ml.model.version).",
        "  - ROI: +314.0% (incremental value 6,210, CI – to –, against cost 1,500; net benefit 4,710)",
        "  - correlation: purchase follows ctr 12 h later: r = 0.82 (Pearson, n = 7 buckets; CI 0.41 to 0.95, "
        "p = 0.012)",
        "  - attribution: last_touch credited purchase to v1 21,000, v2 27,210 of 48,210 in the window "
        "(credit, not an effect)",
        "Needs attention:",
        "- CRITICAL 2026-11-03 12:00: correlation_break: ctr→purchase correlation fell below 0.2 for ios",
        "- INCIDENT 2026-11-04: ctr changed (all users); likely cause: features_daily on user_features at "
        "2026-11-03 22:00",
    ]


def test_lift_whose_ci_spans_zero_is_no_evidence_and_claims_no_roi() -> None:
    doc = full_result()
    doc["roi"][0]["metric"] = "purchase"
    doc["lift"][0].update(ci=[-0.02, 0.14], pvalue=0.58)
    doc["correlations"][0].update(pvalue=0.3)
    assert not significant_lift(doc["lift"][0])
    lines = build_headline(doc).lines()
    assert lines[1] == (
        "- No evidence that recommender v2 vs v1 moved purchase: no significant lift or correlation in this window."
    )
    assert lines[2].endswith("— not significant") and "CI -2.0% to +14.0%" in lines[2]
    assert (
        lines[3] == "  - ROI: not claimed: the lift it rests on is not significant (p = 0.58, CI includes 0)"
    )
    assert "+314" not in "\n".join(lines)
    # the same headline opens the report and the terminal summary
    assert "No evidence that recommender v2 vs v1 moved purchase" in render_html(doc)
    assert lines[1] in summary_lines(doc)


def test_empty_result_says_nothing_was_analysed() -> None:
    assert build_headline({}).lines() == [
        "Did the model move the business? (no window)",
        "- No model or business metric was analysed in this window.",
        "Needs attention: nothing critical, no incidents.",
    ]
