"""The docs stay true to the code: the generated configuration reference is up to date, the
commented example config loads, and every relative link in README.md and docs/ resolves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from otel_impact.config import load_config
from otel_impact.config.reference import example_comments, render_reference

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
# pages written alongside this one and merged separately; a link to them may precede the page
PENDING = {
    "detection.md",
    "alerts.md",
    "receiver.md",
    "quasi-experiments.md",
    "report.md",
    "llm.md",
    "configuration-validation.md",
}
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_configuration_reference_is_generated_from_the_models() -> None:
    committed = (DOCS / "configuration.md").read_text(encoding="utf-8")
    assert committed == render_reference(), (
        "docs/configuration.md is out of date: run `make docs` "
        "(python -m otel_impact.config.reference docs/configuration.md)"
    )


def test_architecture_stage_graph_is_generated_from_the_declarations() -> None:
    from otel_impact.pipeline import STAGES
    from otel_impact.stages.graph import render_graph, replace_generated

    committed = (DOCS / "architecture.md").read_text(encoding="utf-8")
    assert committed == replace_generated(committed, render_graph(STAGES)), (
        "the stage graph in docs/architecture.md is out of date: run `make docs` "
        "(python -m otel_impact.pipeline --graph docs/architecture.md)"
    )
    assert "flowchart TD" in committed and "| 10 | `lift` |" in committed


def test_reference_lists_every_key_with_type_and_default() -> None:
    text = render_reference()
    for key in ("job.lookback", "export.endpoint", "business_metrics[].window", "pipelines.<name>.schedule"):
        assert f"| `{key}` |" in text, key
    assert "| `export.endpoint` | str \\| null | null |" in text


def test_example_config_loads_and_its_comments_describe_keys() -> None:
    config = load_config(DOCS / "impact.example.yaml")
    assert [m.name for m in config.business_metrics] == ["purchase", "order"]
    comments = example_comments((DOCS / "impact.example.yaml").read_text(encoding="utf-8"))
    assert comments["business_metrics[].window"].startswith("an outcome at ts counts")
    assert "correlation.max_lag" in comments


@pytest.mark.parametrize("page", ["README.md", *sorted(p.name for p in DOCS.glob("*.md"))])
def test_relative_links_resolve(page: str) -> None:
    path = REPO / page if page == "README.md" else DOCS / page
    broken = []
    for target in LINK.findall(path.read_text(encoding="utf-8")):
        if "://" in target or target.startswith(("#", "mailto:")):
            continue
        file = (path.parent / target.split("#", 1)[0]).resolve()
        if not file.exists() and file.name not in PENDING:
            broken.append(target)
    assert broken == []


def test_readme_is_a_short_guide() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 300
    quickstart = text[text.index("## Quickstart") : text.index("\n## ", text.index("## Quickstart") + 1)]
    assert "make demo" in quickstart and "make test" in quickstart
    for heading in re.findall(r"^## (.+)$", text, re.M):
        if heading != "Contents":
            anchor = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
            assert f"(#{anchor})" in text, f"table of contents lacks {heading!r}"


def test_benchmark_figures_live_only_in_benchmarks_results() -> None:
    # throughput, per-item CPU and overhead ratios are measured figures: link, do not copy
    figure = re.compile(r"\d[\d,.]*\s*(spans/s|µs|us per|× a bare|x a bare)|\d\.\d+–\d\.\d+×")
    for path in [REPO / "README.md", *DOCS.glob("*.md")]:
        if path.name in PENDING:
            continue
        hits = [m.group(0) for m in figure.finditer(path.read_text(encoding="utf-8"))]
        assert hits == [], f"{path.name}: {hits}"
