"""Analysis stages: one module per stage (store queries → pure analysis → JSON section).

Each module exposes ``run(ctx: otel_impact.context.JobContext) -> None`` and its declaration, a
:class:`~otel_impact.stages.graph.Stage` naming what the stage needs, gives and adds to; the
order they run in (:data:`otel_impact.pipeline.STAGES`) follows from those declarations.
"""

__all__: list[str] = []
