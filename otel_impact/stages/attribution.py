"""Attribution stage: credit stitched outcomes to model versions."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from otel_impact.pipeline import JobContext


def run(ctx: JobContext) -> None:
    ctx.result["attribution"] = []
