"""A simulated LLM support assistant traced only by upstream OpenTelemetry instrumentations.

It answers support chats through the real ``openai`` client against the local
:class:`~otel_impact.demo.llm_stub.LlmStub`, traced by the real ``opentelemetry-instrumentation-openai-v2``
(GenAI conventions) or OpenInference's ``openinference-instrumentation-openai``. Nothing in it
calls otel_impact's instrumentation API — its spans become predictions in the store as they are:

* the prompt version (v1 / v2) comes from an OpenFeature flag (``support-prompt``, in-memory
  provider, 50/50 by user) whose OpenTelemetry hook records a ``feature_flag.evaluation`` span
  event on the request span;
* ``user.id`` and the prompt name (``gen_ai.prompt.name`` = ``support-v1`` / ``support-v2``)
  reach the LLM span through OTel baggage and the baggage span processor (openai-v2), or
  OpenInference's ``using_attributes`` / ``using_prompt_template`` (``llm.prompt_template.version``);
* an evaluator scores each answer (``gen_ai.evaluation.result``, ``helpfulness``, joined by
  ``gen_ai.response.id``); the shop records purchases (``business.purchase``).

Planted effects (:class:`SupportPlan`): v2 converts more users than v1 (a lift), and a day's
answer quality — what the evaluator scores — moves purchases ``lag_days`` later (an
evaluation-score → conversion lag). v2's longer prompt costs more tokens.

The upstream instrumentations take no timestamps, so simulated days are replayed by shifting the
SDK's span clock while a call runs (:func:`simulated_clock`); log events carry explicit times.
The optional packages (``openai``, the instrumentations, ``openfeature-sdk``) are imported only
here, when the service runs: ``pip install 'otel-impact[dev]'`` brings them.
"""

from __future__ import annotations

import random
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from otel_impact import semconv

Instrumentation = Literal["openai-v2", "openinference"]
FLAG_KEY = "support-prompt"
EVALUATOR = "helpfulness"
MODEL = "gpt-4o-mini"
PURCHASE = "purchase"
PROMPTS = {
    "v1": "You are a support assistant. Answer briefly.",
    "v2": (
        "You are a friendly support assistant for the shop. Answer the question step by step, "
        "link the matching help article and suggest the product that solves the problem."
    ),
}
QUESTIONS = (
    "Where is my order?",
    "How do I return a broken kettle?",
    "Can I change the delivery address of my parcel?",
    "Which charger fits the travel adapter I bought last week?",
)
_DAY = timedelta(days=1)


def optional_packages_missing() -> list[str]:
    """Names of the optional packages the service needs that are not installed."""
    import importlib.util

    needed = {
        "openai": "openai",
        "opentelemetry.instrumentation.openai_v2": "opentelemetry-instrumentation-openai-v2",
        "openinference.instrumentation.openai": "openinference-instrumentation-openai",
        "openfeature": "openfeature-sdk",
        "openfeature.contrib.hook.opentelemetry": "openfeature-hooks-opentelemetry",
        "opentelemetry.processor.baggage": "opentelemetry-processor-baggage",
    }
    missing = []
    for module, package in needed.items():
        try:
            found = importlib.util.find_spec(module) is not None
        except ImportError:
            found = False
        if not found:
            missing.append(package)
    return missing


@dataclass(frozen=True)
class SupportPlan:
    """What the simulated support assistant does and the effects planted in it."""

    start: datetime
    days: int = 30
    users_per_day: int = 24
    conversion: tuple[float, float] = (0.30, 0.45)  # purchase probability of v1, v2 users
    quality_range: tuple[float, float] = (0.25, 0.85)  # a day's answer quality, uniform
    quality_slope: float = 0.6  # purchase probability per unit of quality above its mean
    evaluation_noise: float = 0.05
    lag_days: int = 2  # purchases follow the chat by this many days (+ up to 1 h)
    purchase_value: float = 20.0
    purchase_metric: str = PURCHASE  # business metric of the purchases (event business.<metric>)
    seed: int = 7

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("SupportPlan.start must be timezone-aware")
        if self.days < 1 or self.users_per_day < 1:
            raise ValueError("SupportPlan.days and users_per_day must be >= 1")


@dataclass
class SupportTruth:
    """What the service did, for checking what the analyzer recovers."""

    variant_of: dict[str, str] = field(default_factory=dict)  # user -> v1/v2
    response_variant: dict[str, str] = field(default_factory=dict)  # gen_ai.response.id -> v1/v2
    quality: list[float] = field(default_factory=list)  # per day
    purchases: list[tuple[str, datetime]] = field(default_factory=list)  # (user, time)
    evaluations: int = 0


@contextmanager
def simulated_clock(at: datetime) -> Iterator[None]:
    """Spans started and ended inside run at ``at`` plus the real time elapsed since entering.

    The SDK reads its span clock through ``opentelemetry.sdk.trace.time_ns``; upstream
    instrumentations never pass timestamps, so this is how a replay places them on a simulated day.
    """
    import opentelemetry.sdk.trace as sdk_trace

    real = sdk_trace.time_ns
    base = int((at - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1)) * 1000
    t0 = time.time_ns()
    sdk_trace.time_ns = lambda: base + (time.time_ns() - t0)  # type: ignore[attr-defined]
    try:
        yield
    finally:
        sdk_trace.time_ns = real  # type: ignore[attr-defined]


def _ns(value: datetime) -> int:
    return int((value - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1)) * 1000


def variant_of(user: str) -> str:
    """The flag's deterministic 50/50 assignment."""
    return "v2" if zlib.crc32(user.encode()) % 2 else "v1"


def _flag_client(domain: str) -> Any:
    from openfeature import api
    from openfeature.contrib.hook.opentelemetry import TracingHook
    from openfeature.flag_evaluation import FlagResolutionDetails, Reason
    from openfeature.provider.in_memory_provider import InMemoryFlag, InMemoryProvider

    def by_user(flag: Any, context: Any) -> Any:
        variant = variant_of(str(context.targeting_key or ""))
        return FlagResolutionDetails(value=flag.variants[variant], variant=variant, reason=Reason.SPLIT)

    flag = InMemoryFlag("v1", {"v1": "v1", "v2": "v2"}, context_evaluator=by_user)
    api.set_provider(InMemoryProvider({FLAG_KEY: flag}), domain=domain)
    client = api.get_client(domain=domain)
    client.add_hooks([TracingHook()])
    return client


@contextmanager
def _instrumented(kind: Instrumentation, tracer_provider: Any) -> Iterator[None]:
    if kind == "openai-v2":
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
        from opentelemetry.processor.baggage import ALLOW_ALL_BAGGAGE_KEYS, BaggageSpanProcessor

        tracer_provider.add_span_processor(BaggageSpanProcessor(ALLOW_ALL_BAGGAGE_KEYS))
        instrumentor: Any = OpenAIInstrumentor()
    else:
        from openinference.instrumentation.openai import OpenAIInstrumentor as OIInstrumentor

        instrumentor = OIInstrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider)
    try:
        yield
    finally:
        instrumentor.uninstrument()


@contextmanager
def _request_context(kind: Instrumentation, user: str, variant: str, session: str) -> Iterator[None]:
    if kind == "openai-v2":
        from opentelemetry import baggage, context

        ctx = baggage.set_baggage(semconv.USER_ID, user)
        ctx = baggage.set_baggage(semconv.SESSION_ID, session, ctx)
        ctx = baggage.set_baggage(semconv.GEN_AI_PROMPT_NAME, f"support-{variant}", ctx)
        token = context.attach(ctx)
        try:
            yield
        finally:
            context.detach(token)
    else:
        from openinference.instrumentation import using_attributes, using_prompt_template

        with (
            using_attributes(user_id=user, session_id=session),
            using_prompt_template(template=PROMPTS[variant], version=variant),
        ):
            yield


def run_support_assistant(
    base_url: str,
    tracer_provider: Any,
    logger_provider: Any,
    plan: SupportPlan,
    *,
    instrumentation: Instrumentation = "openai-v2",
    flush: bool = True,
) -> SupportTruth:
    """Replay ``plan``'s days of support chats, evaluations and purchases; return the truth."""
    import openai

    rng = random.Random(plan.seed)
    truth = SupportTruth()
    tracer = tracer_provider.get_tracer("support-assistant")
    events = logger_provider.get_logger("support-evaluator")
    flags = _flag_client(f"support-{instrumentation}")
    client = openai.OpenAI(base_url=base_url, api_key="local-stub", max_retries=0, timeout=30.0)
    from openfeature.evaluation_context import EvaluationContext
    from opentelemetry.trace import SpanKind

    mid = sum(plan.quality_range) / 2
    with _instrumented(instrumentation, tracer_provider):
        for day in range(plan.days):
            quality = rng.uniform(*plan.quality_range)
            truth.quality.append(quality)
            day_start = plan.start + day * _DAY
            for i in range(plan.users_per_day):
                user = f"user-{day:03d}-{i:03d}"
                at = day_start + timedelta(minutes=30 * (i + 1))
                with (
                    simulated_clock(at),
                    tracer.start_as_current_span("POST /support", kind=SpanKind.SERVER),
                ):
                    variant = flags.get_string_value(FLAG_KEY, "v1", EvaluationContext(targeting_key=user))
                    with _request_context(instrumentation, user, variant, f"chat-{user}"):
                        reply = client.chat.completions.create(
                            model=MODEL,
                            messages=[
                                {"role": "system", "content": PROMPTS[variant]},
                                {"role": "user", "content": QUESTIONS[(day + i) % len(QUESTIONS)]},
                            ],
                        )
                truth.variant_of[user] = variant
                truth.response_variant[reply.id] = variant
                score = min(1.0, max(0.0, quality + rng.gauss(0.0, plan.evaluation_noise)))
                events.emit(
                    timestamp=_ns(at + timedelta(minutes=5)),
                    event_name=semconv.EVENT_GEN_AI_EVALUATION_RESULT,
                    attributes={
                        semconv.GEN_AI_EVALUATION_NAME: EVALUATOR,
                        semconv.GEN_AI_EVALUATION_SCORE_VALUE: score,
                        semconv.GEN_AI_EVALUATION_SCORE_LABEL: "pass" if score >= 0.5 else "fail",
                        semconv.GEN_AI_RESPONSE_ID: reply.id,
                    },
                )
                truth.evaluations += 1
                p = plan.conversion[1 if variant == "v2" else 0] + plan.quality_slope * (quality - mid)
                if rng.random() < p:
                    bought = at + plan.lag_days * _DAY + timedelta(minutes=rng.uniform(0, 60))
                    events.emit(
                        timestamp=_ns(bought),
                        event_name=semconv.business_event(plan.purchase_metric),
                        attributes={semconv.USER_ID: user, semconv.BUSINESS_VALUE: plan.purchase_value},
                    )
                    truth.purchases.append((user, bought))
    if flush:
        tracer_provider.force_flush()
        logger_provider.force_flush()
    return truth


__all__ = [
    "EVALUATOR",
    "FLAG_KEY",
    "MODEL",
    "PROMPTS",
    "PURCHASE",
    "SupportPlan",
    "SupportTruth",
    "optional_packages_missing",
    "run_support_assistant",
    "simulated_clock",
    "variant_of",
]
