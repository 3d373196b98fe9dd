"""The result documents the tests of exporters, reports, digests and headlines run on.

:func:`recorded` and :func:`recorded_llm` are what the real pipeline produced for the reduced demo
(``tests/data/record_results.py``; ``tests/demo/test_demo_e2e.py`` checks that a fresh run still
produces them). :func:`full_result` is the same document stamped with another window.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent / "data"))

from record_results import DEMO, LLM, load

from otel_impact.records import Result


def recorded() -> dict[str, Any]:
    """A fresh copy of the recorded demo result (seed 3, 2,000 users, 2026-10-21 .. 2026-11-20)."""
    return load(DEMO)


def recorded_llm() -> dict[str, Any]:
    """A fresh copy of the recorded result of the demo's LLM support assistant (cost per outcome)."""
    return load(LLM)


RECORDED_WINDOW: dict[str, str] = recorded()["window"]


def full_result(window: dict[str, str] | None = None) -> dict[str, Any]:
    """The recorded demo result, stamped with ``window`` when given: for the job-machinery tests
    (incremental windows, watermark, lock, export), whose fake analysis must answer for whatever
    window the job plans. Its content is still what the real pipeline produced."""
    doc = recorded()
    if window is not None:
        doc["window"] = dict(window)
    return doc


def recorded_result() -> Result:
    """:func:`recorded` as the typed :class:`~otel_impact.records.Result` the pipeline returns."""
    return Result.from_json(recorded())


def recorded_llm_result() -> Result:
    """:func:`recorded_llm` as a typed :class:`~otel_impact.records.Result`."""
    return Result.from_json(recorded_llm())


def full_record(window: dict[str, str] | None = None) -> Result:
    """:func:`full_result` as a typed :class:`~otel_impact.records.Result`."""
    return Result.from_json(full_result(window))
