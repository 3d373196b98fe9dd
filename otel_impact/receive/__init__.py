"""Embedded OTLP receiver (HTTP + gRPC) writing the Collector's ClickHouse exporter layout."""

from otel_impact.receive.admission import Limits
from otel_impact.receive.batcher import BatchWriter, Closed, QueueFull, Sink, Unstorable, WriteFailed
from otel_impact.receive.protocol import BadRequest, Signal
from otel_impact.receive.receiver import Endpoints, Receiver
from otel_impact.receive.telemetry import ReceiverStats

__all__ = [
    "BadRequest",
    "BatchWriter",
    "Closed",
    "Endpoints",
    "Limits",
    "QueueFull",
    "Receiver",
    "ReceiverStats",
    "Signal",
    "Sink",
    "Unstorable",
    "WriteFailed",
]
