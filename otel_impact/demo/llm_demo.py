"""The demo's LLM part: a support assistant traced by upstream instrumentation, and what the
analyzer recovers from it.

:func:`run_llm_demo` starts the local OpenAI-compatible stub, replays the support assistant
(:mod:`otel_impact.demo.llm_service`) over the demo's simulated period into the demo's receiver,
analyses the store with the config a team would write for it (:func:`support_config_data`) and
compares with the plan: the lift of prompt v2 over v1 from the OpenFeature flag, the lag from
the evaluation score to upgrades, and each version's cost per upgrade against a hand
computation from the stub's token counts. It exports the ``impact.*`` results through OTLP (the dashboards show them) and writes
``llm-impact.yaml``, ``llm-results.json`` and ``llm-report.md`` next to the main demo's files.

The service needs the ``openai`` client, the upstream instrumentations and ``openfeature-sdk``
(the ``dev`` extra, which ``make demo`` installs); without them the part is skipped with a note.
Its business metric (``support_upgrade``) is not one the main demo analyses, so the main
demo's numbers do not change.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from otel_impact import semconv
from otel_impact.demo.llm_service import (
    EVALUATOR,
    FLAG_KEY,
    MODEL,
    SupportPlan,
    SupportTruth,
    optional_packages_missing,
    run_support_assistant,
)
from otel_impact.demo.llm_stub import LlmStub, Served
from otel_impact.records import Result
from otel_impact.store.client import StoreClient

METRIC = "support_upgrade"
PRICES = {"input": 150.0, "output": 600.0}  # per million tokens (a demo price sheet)
SERVICE = "support-assistant"


def support_config_data(plan: SupportPlan, *, database: str | None = None) -> dict[str, Any]:
    """The ``impact.yaml`` (as data) for the support assistant's LLM spans."""
    data: dict[str, Any] = {
        "business_metrics": [
            {
                "name": plan.purchase_metric,
                "source": {"event": semconv.business_event(plan.purchase_metric)},
                "key": semconv.USER_ID,
                "window": "3d",
                "value": "count",
            }
        ],
        "attribution": {"models": ["last_touch"]},
        "series": {
            "bucket": "1d",
            "model_metrics": [f"evaluation.{EVALUATOR}", "llm_cost"],
            "business_measure": "events",
        },
        "correlation": {"max_lag": 4, "methods": ["pearson"], "min_points": 8},
        "lift": {
            "flag": FLAG_KEY,
            "treatment": {semconv.FEATURE_FLAG_VARIANT: "v2"},
            "control": {semconv.FEATURE_FLAG_VARIANT: "v1"},
            "bootstrap": 500,
            "expected_split": [0.5, 0.5],
            "segments": False,
        },
        "llm": {"prices": {MODEL: dict(PRICES)}, "currency": "USD"},
        "alerts": {"enabled": False},
    }
    if database is not None:
        data["database"] = database
    return data


@dataclass(frozen=True)
class Verdict:
    """One planted effect of the LLM part and what the analyzer recovered."""

    what: str
    planted: str
    recovered: str
    ok: bool


def hand_cost(served: list[Served], truth: SupportTruth, variant: str) -> float:
    """Σ over the stub's answers to ``variant`` chats of prompt × input + completion × output price."""
    return sum(
        (s.prompt_tokens * PRICES["input"] + s.completion_tokens * PRICES["output"]) / 1e6
        for s in served
        if truth.response_variant.get(s.response_id) == variant
    )


def _num(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _defined(value: float | None) -> float | None:
    return value if _num(value) else None


def _pct(value: Any) -> str:
    return f"{value:+.0%}" if _num(value) else "–"


def _fixed(value: Any, digits: int = 2) -> str:
    return f"{value:.{digits}f}" if _num(value) else "–"


def verdicts(result: Result, plan: SupportPlan, truth: SupportTruth, served: list[Served]) -> list[Verdict]:
    """Planted vs recovered for the lift, the evaluation lag and each version's cost per outcome."""
    out: list[Verdict] = []
    planted_lift = plan.conversion[1] / plan.conversion[0] - 1.0
    lift = next((r for r in result.lift if not r.segment), None)
    lo, hi = (
        (_defined(lift.ci[0]), _defined(lift.ci[1]))
        if lift is not None and len(lift.ci) >= 2
        else (None, None)
    )
    ok = lo is not None and hi is not None and 0 < lo <= planted_lift <= hi
    out.append(
        Verdict(
            "lift of prompt v2 over v1 (flag)",
            _pct(planted_lift),
            f"{_pct(lift.estimate if lift is not None else None)} (CI {_pct(lo)} … {_pct(hi)})",
            bool(ok),
        )
    )
    lag = next(
        (r for r in result.correlations if r.model_metric == f"evaluation.{EVALUATOR}" and not r.segment),
        None,
    )
    out.append(
        Verdict(
            f"evaluation score ({EVALUATOR}) → upgrades lag",
            f"{plan.lag_days} d",
            "–" if lag is None else f"{lag.lag_buckets} d (r = {_fixed(lag.estimate)})",
            lag is not None and lag.lag_buckets == plan.lag_days,
        )
    )
    end = plan.start + timedelta(days=plan.days)
    for variant in ("v1", "v2"):
        bought = sum(1 for u, at in truth.purchases if at < end and truth.variant_of.get(u) == variant)
        expected = hand_cost(served, truth, variant) / bought if bought else float("nan")
        row = next(
            (r for r in result.cost if not r.segment and str(r.model_version or "").endswith(variant)),
            None,
        )
        got = None if row is None else _defined(row.cost_per_outcome)
        ok = got is not None and _num(expected) and abs(got - expected) <= 1e-9 * max(1.0, abs(expected))
        out.append(
            Verdict(
                f"cost per upgrade, prompt {variant}",
                f"{_fixed(expected, 4)} USD (hand)",
                f"{_fixed(got, 4)} USD",
                bool(ok),
            )
        )
    return out


def run_llm_demo(
    client: StoreClient,
    endpoint: str,
    start: datetime,
    days: int,
    out: Path,
    say: Callable[[str], None],
    *,
    users_per_day: int = 20,
    seed: int = 7,
) -> list[Verdict] | None:
    """Emit, analyse and judge the LLM part (``None`` when the optional packages are missing)."""
    missing = optional_packages_missing()
    if missing:
        say(f"LLM support assistant skipped: install the dev extra (missing {', '.join(missing)})")
        return None
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from otel_impact.config.loader import config_from_dict
    from otel_impact.context import Window
    from otel_impact.export.otlp import OtlpResultExporter
    from otel_impact.export.points import result_points
    from otel_impact.pipeline import analyze, to_jsonable
    from otel_impact.report.markdown import render_markdown

    plan = SupportPlan(start=start, days=days, users_per_day=users_per_day, purchase_metric=METRIC, seed=seed)
    resource = Resource.create({semconv.SERVICE_NAME: SERVICE})
    tp = TracerProvider(resource=resource, shutdown_on_exit=False)
    tp.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces")))
    lp = LoggerProvider(resource=resource, shutdown_on_exit=False)
    lp.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter(endpoint=f"{endpoint}/v1/logs")))
    with LlmStub() as stub:
        truth = run_support_assistant(stub.base_url, tp, lp, plan, instrumentation="openai-v2")
        served = list(stub.served)
    tp.shutdown()
    lp.shutdown()
    say(
        f"LLM support assistant: {len(served)} chats through the openai client (traced by "
        f"opentelemetry-instrumentation-openai-v2), {truth.evaluations} evaluations, {len(truth.purchases)} upgrades"
    )
    data = support_config_data(plan)
    config = config_from_dict(data, source="llm-impact.yaml")
    record = analyze(client, config, Window(plan.start, plan.start + timedelta(days=plan.days)), seed=seed)
    rows = verdicts(record, plan, truth, served)
    # impact.* results back through OTLP, like the main demo's job, so the dashboards show them
    exporter = OtlpResultExporter(endpoint=endpoint)
    try:
        exporter.export(result_points(record, run_id=f"demo-llm-{seed}"), [])
    finally:
        exporter.shutdown()
    (out / "llm-impact.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    document = {**record.to_json(), "planted_vs_recovered": [vars(v) for v in rows]}
    (out / "llm-results.json").write_text(json.dumps(to_jsonable(document), indent=2), encoding="utf-8")
    report = render_markdown(record, title="otel-impact: LLM support assistant")
    (out / "llm-report.md").write_text(report, encoding="utf-8")
    for v in rows:
        say(f"  {'✓' if v.ok else '✗'} {v.what}: planted {v.planted}, recovered {v.recovered}")
    return rows


__all__ = ["METRIC", "Verdict", "hand_cost", "run_llm_demo", "support_config_data", "verdicts"]
