"""Run the support assistant (real openai client + real upstream instrumentation) into a store.

The service's SDK providers export OTLP/HTTP to the embedded receiver, which writes the
exporter layout into a fresh database of the session's engine; the analysis config below is
what a team would write for it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from otel_impact import semconv
from otel_impact.config.model import ImpactConfig
from otel_impact.demo.llm_demo import support_config_data
from otel_impact.demo.llm_service import (
    Instrumentation,
    SupportPlan,
    SupportTruth,
    run_support_assistant,
)
from otel_impact.demo.llm_stub import LlmStub, Served
from otel_impact.receive import Receiver
from otel_impact.store import apply_schema

START = datetime(2026, 10, 1, tzinfo=UTC)


@dataclass
class Run:
    client: Any
    truth: SupportTruth
    served: list[Served]
    plan: SupportPlan


def config(plan: SupportPlan, **overrides: Any) -> ImpactConfig:
    """The demo's config for the support assistant (what a team would write), with ``overrides``."""
    return ImpactConfig.model_validate(support_config_data(plan) | overrides)


def window(plan: SupportPlan) -> tuple[datetime, datetime]:
    return plan.start, plan.start + timedelta(days=plan.days)


@contextmanager
def support_run(engine_client: Any, instrumentation: Instrumentation, plan: SupportPlan) -> Iterator[Run]:
    """A fresh database filled by one run of the support assistant through the receiver."""
    import clickhouse_connect

    from tests.conftest import _dsn

    name = "t_llm_" + uuid.uuid4().hex[:10]
    engine_client.command(f"CREATE DATABASE {name}")
    client = clickhouse_connect.get_client(dsn=_dsn(), database=name)
    try:
        apply_schema(client, database=name)
        with Receiver(client, http="127.0.0.1:0", grpc=None) as rx, LlmStub() as stub:
            base = rx.endpoints.http
            resource = Resource.create({semconv.SERVICE_NAME: "support-assistant"})
            tp = TracerProvider(resource=resource, shutdown_on_exit=False)
            tp.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{base}/v1/traces")))
            lp = LoggerProvider(resource=resource, shutdown_on_exit=False)
            lp.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter(endpoint=f"{base}/v1/logs")))
            truth = run_support_assistant(stub.base_url, tp, lp, plan, instrumentation=instrumentation)
            tp.shutdown()
            lp.shutdown()
            served = list(stub.served)
        yield Run(client, truth, served, plan)
    finally:
        engine_client.command(f"DROP DATABASE IF EXISTS {name} SYNC")


@contextmanager
def otlp_into(client: Any, service: str = "llm-app") -> Iterator[tuple[TracerProvider, LoggerProvider]]:
    """SDK providers (batching) exporting OTLP/HTTP to a receiver writing into ``client``'s
    database; the providers are shut down (everything delivered) when the block ends."""
    with Receiver(client, http="127.0.0.1:0", grpc=None) as rx:
        base = rx.endpoints.http
        resource = Resource.create({semconv.SERVICE_NAME: service})
        tp = TracerProvider(resource=resource, shutdown_on_exit=False)
        tp.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{base}/v1/traces")))
        lp = LoggerProvider(resource=resource, shutdown_on_exit=False)
        lp.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter(endpoint=f"{base}/v1/logs")))
        try:
            yield tp, lp
        finally:
            tp.shutdown()
            lp.shutdown()
