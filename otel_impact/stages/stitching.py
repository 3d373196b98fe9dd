"""Stitching stage: join business outcomes to the predictions that preceded them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from otel_impact.pipeline import JobContext


def run(ctx: JobContext) -> None:
    ctx.result["stitching"] = []
