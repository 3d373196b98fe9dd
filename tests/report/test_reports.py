"""HTML / Markdown reports: every section present, a chart per section, self-contained, robust.

The HTML is always parsed with ``html.parser`` (no browser needed). When ``/usr/bin/chromium``
exists the report is also rendered headless (``--dump-dom``) and its console log must be clean.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from report_browser import check_layout
from results import recorded, recorded_result

from otel_impact.records import Result
from otel_impact.report.data import CHART_SECTIONS, build_sections
from otel_impact.report.html import render_html
from otel_impact.report.markdown import render_markdown
from otel_impact.report.summary import summary_lines, warning_lines


def _only(doc: dict[str, Any], *keep: str) -> dict[str, Any]:
    """``doc`` with every section but the window and ``keep`` left out."""
    return {k: v for k, v in doc.items() if k in ("window", *keep)}


def _empty() -> Result:
    """The recorded result with no section: what a run over a quiet window gives."""
    return Result.from_json(_only(recorded()))


def _odd() -> Result:
    """A nearly empty result whose one series has only undefined values."""
    doc = _only(recorded(), "series")
    doc["series"] = doc["series"][:1]
    doc["series"][0]["values"] = [None] * len(doc["series"][0]["values"])
    return Result.from_json(doc)


SECTION_IDS = [s.id for s in build_sections(_empty())]
CHROMIUM = Path("/usr/bin/chromium")


class Dom(HTMLParser):
    """Collects section headings, SVG charts per section and every URL-bearing attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: dict[str, str] = {}
        self.charts: dict[str, int] = {}
        self.urls: list[str] = []
        self.tags: set[str] = set()
        self.section: str | None = None
        self._heading: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.add(tag)
        if tag == "section":
            self.section = (a.get("id") or "").removeprefix("sec-")
        if tag == "h2":
            self._heading = a.get("id")
        if tag == "svg" and self.section:
            self.charts[self.section] = self.charts.get(self.section, 0) + 1
        for key in ("src", "href", "xlink:href", "action"):
            if a.get(key):
                self.urls.append(str(a[key]))

    def handle_data(self, data: str) -> None:
        if self._heading:
            self.headings[self._heading] = self.headings.get(self._heading, "") + data

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2":
            self._heading = None


def parse(html: str) -> Dom:
    dom = Dom()
    dom.feed(html)
    return dom


def test_full_report_has_every_section_and_a_chart_in_each() -> None:
    html = render_html(recorded_result())
    dom = parse(html)
    assert list(dom.headings) == SECTION_IDS
    assert dom.headings["timeline"] == "Alerts and incidents timeline"
    for sid in CHART_SECTIONS:
        assert dom.charts.get(sid, 0) >= 1, f"section {sid} has no chart"
    assert "Model metric vs business metric" in dom.headings["model-vs-business"]
    assert SECTION_IDS[0] == "headline" and html.index("<section") == html.index('<section id="sec-headline"')


def test_report_is_self_contained() -> None:
    html = render_html(recorded_result())
    dom = parse(html)
    assert "script" not in dom.tags and "link" not in dom.tags and "img" not in dom.tags
    assert all(u.startswith("#") for u in dom.urls)
    # only the SVG namespace URI may appear (it is an identifier, never fetched)
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) <= {"http://www.w3.org/2000/svg"}


def test_best_lag_is_applied_in_model_vs_business_chart() -> None:
    doc = recorded()
    best = max((r for r in doc["correlations"] if r["segment"] == {} and r["method"] == "pearson"
                and r["business_metric"] == "purchase"), key=lambda r: abs(r["estimate"]))  # fmt: skip
    days = best["lag_s"] / 86400
    assert days == int(days) and days > 1  # the recorded demo's planted lag is whole days
    sec = next(s for s in build_sections(Result.from_json(doc)) if s.id == "model-vs-business")
    lag = f"lag {int(days)} days"
    assert any(lag in n and f"r = {best['estimate']:.2f}" in n and "(Pearson)" in n for n in sec.notes)
    assert f"drawn {int(days)} days earlier" in sec.charts[0]  # the business panel is shifted back by the lag


def test_escaping_of_untrusted_labels() -> None:
    doc = recorded()
    doc["alerts"][0]["message"] = "<script>alert(1)</script>"
    doc["correlations"][0]["model_metric"] = "<b>x</b>"
    html = render_html(Result.from_json(doc))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "script" not in parse(html).tags


@pytest.mark.parametrize("make", [_empty, _odd], ids=["empty", "odd"])
def test_missing_or_odd_sections_say_no_data(make: Callable[[], Result]) -> None:
    doc = make()
    html = render_html(doc)
    dom = parse(html)
    assert list(dom.headings) == SECTION_IDS
    assert html.count("no data") >= len(CHART_SECTIONS)
    md = render_markdown(doc)
    assert md.count("_no data_") >= len(CHART_SECTIONS)
    assert summary_lines(doc)[0].startswith("window")


def test_markdown_report_tables() -> None:
    doc = recorded()
    md = render_markdown(Result.from_json(doc))
    for sec in build_sections(_empty()):
        assert f"## {sec.title}" in md
    assert "| business metric | attribution model | segment | ranker v1 | ranker v2 |" in md
    cells = {r["ml.model.version"]: r for r in doc["attribution"]
             if r["business_metric"] == "purchase" and r["model"] == "last_touch" and r["segment"] == {}}  # fmt: skip
    row = " | ".join(f"{cells[v]['value']:,.0f} ({cells[v]['credit']:,.0f} conv.)" for v in ("v1", "v2"))
    assert f"| purchase | last touch | all users | {row} |" in md
    for ev in doc["evaluation"]:
        assert f"| {ev['feature']} | {ev['offline']['metric']} | {ev['offline']['value']:.3g} |" in md
        assert f"| {ev['action']} |" in md


def test_terminal_summary_is_concise() -> None:
    doc = recorded()
    lines = summary_lines(Result.from_json(doc))
    assert len(lines) <= 25  # the headline plus the strongest estimates, not every row
    best = next(r for r in doc["correlations"] if r["segment"] == {} and r["method"] == "pearson")
    assert any(
        "mean_score → purchase" in line
        and f"r = {best['estimate']:.2f} Pearson" in line
        and "lag 2 days" in line
        for line in lines
    )
    lift = doc["lift"][0]
    ci = f"CI [{100 * lift['ci'][0]:+.1f}%, {100 * lift['ci'][1]:+.1f}%], p = {lift['pvalue']:.2g}"
    assert any(line.startswith("  lift") and "[all users]" in line and ci in line for line in lines)
    firing = [a for a in doc["alerts"] if a["state"] == "firing"]
    critical = sum(a["severity"] == "critical" for a in firing)
    resolved = len(doc["alerts"]) - len(firing)
    assert any(line.strip().startswith("alerts") and f"{len(firing)} firing ({critical} critical), {resolved} resolved" in line
               for line in lines)  # fmt: skip
    assert not any(line.startswith("warning:") for line in lines)  # warnings go to stderr


@pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium not installed (html.parser checks still ran)")
def test_renders_in_headless_chromium_without_console_errors(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_html(recorded_result()), encoding="utf-8")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]  # fmt: skip
    proc = subprocess.run([str(CHROMIUM), *flags, "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = parse(proc.stdout)
    assert list(dom.headings) == SECTION_IDS
    for sid in CHART_SECTIONS:
        assert dom.charts.get(sid, 0) >= 1
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == []
    shutil.rmtree(tmp_path / "profile", ignore_errors=True)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium not installed")
@pytest.mark.parametrize("make", [recorded_result, _empty], ids=["full", "empty"])
def test_layout_of_full_and_empty_reports(make: Callable[[], Result], tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_html(make()), encoding="utf-8")
    found = check_layout(page, tmp_path)
    assert found["errors"] == [] and found["first_section"] == "sec-headline"


def test_repeated_warnings_are_collapsed_and_capped() -> None:
    edited = recorded()
    edited["warnings"] = ["same"] * 30 + [f"w{i}" for i in range(20)]
    doc = Result.from_json(edited)
    (table,) = [t for t in build_sections(doc)[-1].tables if t.headers == ["warning", "times"]]
    assert table.rows[0] == ["same", "30"] and len(table.rows) == 21  # every distinct warning, once
    assert warning_lines(doc)[0] == "warning: same (×30)" and len(warning_lines(doc)) == 21


def test_lift_note_names_how_the_ci_was_made() -> None:
    doc = _only(recorded(), "lift")
    assert doc["lift"] and {r["ci_method"] for r in doc["lift"]} == {"bootstrap-percentile"}
    assert "CI from a percentile bootstrap." in render_markdown(Result.from_json(doc))
    doc["lift"][0]["ci_method"] = "delta-log"
    md = render_markdown(Result.from_json(doc))
    assert "CI from a percentile bootstrap or the delta method on the log of the ratio of means" in md
