"""The analyzer job: run the declared analysis stages over one time window.

Each stage (an :class:`~otel_impact.stages.graph.Stage` in its module under
:mod:`otel_impact.stages`) queries the store through ``ctx.client``, calls pure functions from
:mod:`otel_impact.analyze`, and writes its JSON-able sections into ``ctx.result``; values other
stages reuse go into ``ctx.cache``. Every stage declares the items it needs, gives and adds to;
:data:`STAGES` is the listed stages in an order that satisfies those declarations
(``python -m otel_impact.pipeline --graph`` prints the graph).

:class:`Window`, :class:`JobContext`, :func:`iso_utc` and :func:`parse_iso` live in
:mod:`otel_impact.context` and are re-exported here.

>>> [s.name for s in STAGES][:3]
['llm_settings', 'tracking_plan', 'stitching']
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from otel_impact.config.model import ImpactConfig
from otel_impact.context import JobContext, Window, iso_utc, parse_iso
from otel_impact.errors import AnalysisError, OtelImpactError
from otel_impact.records import Record, Result
from otel_impact.stages.attribution import ATTRIBUTION
from otel_impact.stages.correlation import CORRELATION
from otel_impact.stages.deployments import DEPLOYMENTS
from otel_impact.stages.graph import Stage, order_stages, render_graph, replace_generated, run_guarded
from otel_impact.stages.incidents import INCIDENTS
from otel_impact.stages.lift import LIFT
from otel_impact.stages.llm import LLM, LLM_SETTINGS
from otel_impact.stages.plan import TRACKING_PLAN
from otel_impact.stages.resources import RESOURCES
from otel_impact.stages.rollout import ROLLOUT_IMPACT
from otel_impact.stages.series import ALERT_RULES, SERIES
from otel_impact.stages.slo import SLOS
from otel_impact.stages.stitching import STITCHING
from otel_impact.store.client import StoreClient

# Register a stage with its declaration (a Stage in its module) here; the run order follows from
# the declarations (see otel_impact.stages.graph), keeping this listed order where they allow.
LISTED: tuple[Stage, ...] = (
    LLM_SETTINGS,
    TRACKING_PLAN,
    STITCHING,
    ATTRIBUTION,
    SERIES,
    LLM,
    CORRELATION,
    DEPLOYMENTS,
    RESOURCES,
    LIFT,
    ROLLOUT_IMPACT,
    INCIDENTS,
    SLOS,
    ALERT_RULES,
)
STAGES: tuple[Stage, ...] = order_stages(LISTED)  # a bad declaration fails here, at import


def to_jsonable(value: Any) -> Any:
    """Convert a result tree to plain JSON types: NaN/inf → None, datetimes → ISO UTC strings,
    numpy scalars/arrays → Python numbers/lists, tuples → lists."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime):
        return iso_utc(value if value.tzinfo else value.replace(tzinfo=UTC))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Record):
        return value.to_json()
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    tolist = getattr(value, "tolist", None)  # numpy scalars and arrays
    if callable(tolist):
        return to_jsonable(tolist())
    item = getattr(value, "item", None)
    if callable(item):
        return to_jsonable(item())
    raise TypeError(f"cannot convert {type(value).__name__} to JSON")


def analyze(
    client: StoreClient,
    config: ImpactConfig,
    window: Window,
    *,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
    on_stage_error: Callable[[str], None] | None = None,
    check_access: bool = False,
) -> Result:
    """Run every stage in :data:`STAGES` over ``window`` and return the typed :class:`Result`.

    ``progress`` (optional) is called with each stage's name before it runs. A stage failing
    with an unexpected exception becomes an :class:`AnalysisError` naming the stage; errors from
    the package's own tree (config, store) pass through unchanged. With ``on_stage_error``, any
    failing stage is skipped instead: the message naming it is recorded as a warning and passed
    to ``on_stage_error``, and the later stages still run (the demo shows whatever works).
    ``check_access`` runs every stage on a view of ``ctx.cache`` / ``ctx.result`` that raises
    :class:`~otel_impact.stages.graph.UndeclaredAccess` on an item the stage did not declare.
    """
    ctx = JobContext(client=client, config=config, window=window, seed=seed)
    ctx.result["window"] = window.to_json()
    for stage in STAGES:
        name = stage.name
        if progress is not None:
            progress(name)
        try:
            if check_access:
                run_guarded(stage, ctx)
            else:
                stage(ctx)
        except Exception as exc:
            if on_stage_error is not None:
                message = f"stage {name!r} failed and was skipped: {type(exc).__name__}: {exc}"
                ctx.warn(message)
                on_stage_error(message)
                continue
            if isinstance(exc, OtelImpactError):
                raise
            raise AnalysisError(f"stage {name!r} failed: {type(exc).__name__}: {exc}") from exc
    ctx.result["warnings"] = list(ctx.warnings)
    # the sections become the typed records here: a key no record declares, or a value of the
    # wrong type, fails this run loudly (AnalysisError naming the path) instead of some reader
    return Result.from_json(to_jsonable(ctx.result))


def main(argv: list[str] | None = None) -> int:
    """``python -m otel_impact.pipeline --graph [PAGE]``: print the stage graph, or write it
    between the generated-section markers of ``PAGE`` (``make docs`` does, for
    docs/architecture.md; a test checks the page is up to date)."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] != "--graph" or len(args) > 2:
        sys.stderr.write("usage: python -m otel_impact.pipeline --graph [PAGE.md]\n")
        return 2
    graph = render_graph(STAGES)
    if len(args) == 1:
        sys.stdout.write(graph)
        return 0
    page = Path(args[1])
    page.write_text(replace_generated(page.read_text(encoding="utf-8"), graph), encoding="utf-8")
    return 0


__all__ = [
    "LISTED",
    "STAGES",
    "JobContext",
    "Stage",
    "Window",
    "analyze",
    "iso_utc",
    "main",
    "parse_iso",
    "to_jsonable",
]


if __name__ == "__main__":  # pragma: no cover - command-line use
    raise SystemExit(main())
