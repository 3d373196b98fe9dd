"""The otel_impact.testing fixture, registered the way a service's conftest would."""

from otel_impact.testing import captured_telemetry

__all__ = ["captured_telemetry"]
