"""Analysis stages: one module per stage (store queries → pure analysis → JSON section).

Each module exposes ``run(ctx: otel_impact.pipeline.JobContext) -> None``; the order they run
in is :data:`otel_impact.pipeline.STAGES`.
"""

__all__: list[str] = []
