"""The usage examples in the instrumentation docstrings run as written."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize(
    "module",
    [
        "otel_impact",
        "otel_impact.instrument.api",
        "otel_impact.instrument.core",
        "otel_impact.instrument.events",
        "otel_impact.instrument.features",
    ],
)
def test_docstring_examples(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0
    assert result.attempted > 0
