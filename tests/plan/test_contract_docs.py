"""The docstring examples of the contract modules run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "otel_impact.config.contract",
    "otel_impact.plan.validate",
    "otel_impact.plan.check",
    "otel_impact.plan.tree",
    "otel_impact.analyze.slo",
    "otel_impact.analyze.deployments",
    "otel_impact.report.contract",
    "otel_impact.testing",
]


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0
