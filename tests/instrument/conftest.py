"""Fixtures for instrumentation tests (the harness itself lives in ``otel_harness``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from otel_harness import Otel, make_otel

from otel_impact.instrument import Settings, set_instrumentation
from otel_impact.instrument._safe import reset_log_once


@pytest.fixture()
def otel() -> Iterator[Otel]:
    """Instrumentation with default settings, also installed as the module-level default."""
    reset_log_once()
    o = make_otel(Settings(segment_keys=("platform", "tenure"), cardinality_cap=3))
    set_instrumentation(o.instr)
    yield o
    set_instrumentation(None)
