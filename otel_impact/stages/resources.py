"""Resources stage: CPU and memory of each model service, priced, as cost-benefit input.

Services that also export the standard OTel process metrics (``process.cpu.time``,
``process.memory.usage`` — e.g. through ``opentelemetry-instrumentation-system-metrics``) land
in ``otel_metrics_sum`` / ``otel_metrics_gauge``. Per service the stage reads the CPU seconds
used in the window and the mean memory, and splits them over the models the service served by
their (adjusted) prediction share. Costs: ``resources.cpu_hour_cost`` per CPU-hour and
``resources.memory_gib_hour_cost`` per GiB-hour.

Writes ``result["resources"]`` (one row per service × model). When ``roi.compute_cost`` is 0
and a price is configured, the total measured cost of the model services becomes the ROI's
``compute_cost``: the stage gives it as ``cache.compute_cost``, which the ``lift`` stage reads
through :func:`compute_cost` (the config is never rewritten).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from otel_impact import semconv
from otel_impact.stages.graph import Stage
from otel_impact.store.client import StoreClient, query_file, rows

if TYPE_CHECKING:
    from otel_impact.context import JobContext

GIB = float(2**30)
COMPUTE_COST_KEY = "compute_cost"  # the window's priced compute, when roi.compute_cost is 0


def compute_cost(ctx: JobContext) -> float:
    """The ROI's compute cost: ``roi.compute_cost`` when configured (non-zero), else the priced
    usage this stage measured (``cache.compute_cost``), else 0."""
    configured = float(ctx.config.roi.compute_cost)
    return configured if configured != 0 else float(ctx.cache.get(COMPUTE_COST_KEY, configured))


def _rows(client: StoreClient, name: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    return rows(query_file(client, name, params, doing="resources query"))


def run(ctx: JobContext) -> None:
    """CPU and memory per model service; default ``roi.compute_cost`` from their price."""
    cfg = ctx.config.resources
    if not cfg.enabled:
        return
    window = {"start": ctx.window.start, "end": ctx.window.end}
    usage = {
        str(s): (float(cpu), float(mem))
        for s, cpu, mem in _rows(
            ctx.client,
            "resources_usage.sql",
            {**window, "cpu": list(cfg.cpu_metrics), "memory": list(cfg.memory_metrics)},
        )
    }
    if not usage:
        return
    served: dict[str, dict[str, float]] = {}
    for service, model, n in _rows(
        ctx.client, "resources_models.sql", {**window, "models": list(ctx.config.models)}
    ):
        served.setdefault(str(service), {})[str(model)] = float(n)
    hours = ctx.window.seconds / 3600.0
    rows: list[dict[str, Any]] = []
    for service, models in sorted(served.items()):
        if service not in usage:
            continue
        cpu_s, mem_b = usage[service]
        total = sum(models.values()) or 1.0
        for model, n in sorted(models.items()):
            share = n / total
            cpu_cost = cpu_s * share / 3600.0 * cfg.cpu_hour_cost
            mem_cost = mem_b * share / GIB * hours * cfg.memory_gib_hour_cost
            rows.append(
                {
                    semconv.SERVICE_NAME: service,
                    semconv.ML_MODEL_NAME: model,
                    "share": share,
                    "cpu_seconds": cpu_s * share,
                    "memory_gib_mean": mem_b * share / GIB,
                    "cpu_cost": cpu_cost,
                    "memory_cost": mem_cost,
                    "cost": cpu_cost + mem_cost,
                    "predictions": n,
                    "cost_per_1k_predictions": (cpu_cost + mem_cost) / n * 1000.0 if n > 0 else None,
                }
            )
    ctx.result["resources"] = rows
    priced = cfg.cpu_hour_cost > 0 or cfg.memory_gib_hour_cost > 0
    if rows and priced and ctx.config.roi.compute_cost == 0:
        ctx.cache[COMPUTE_COST_KEY] = sum(r["cost"] for r in rows)


RESOURCES = Stage("resources", run, gives=frozenset({"cache.compute_cost", "result.resources"}))

__all__ = ["COMPUTE_COST_KEY", "RESOURCES", "compute_cost", "run"]
