"""One error tree for the whole package.

Third-party errors are translated at the boundary (``raise StoreError(...) from exc``) so callers
and the CLI only need to know these classes. Every error has a short ``code`` used by the CLI to
choose its exit status.

>>> from otel_impact.errors import ConfigError
>>> str(ConfigError("must be positive", path="business_metrics[0].window"))
'business_metrics[0].window: must be positive'
"""

from __future__ import annotations


class OtelImpactError(Exception):
    """Base class of every error raised on purpose by otel-impact."""

    code = "error"
    exit_code = 1


class ConfigError(OtelImpactError, ValueError):
    """Bad configuration; ``path`` is the dotted key (``attribution.time_decay.half_life``)."""

    code = "config"
    exit_code = 2

    def __init__(self, message: str, path: str | None = None) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)


class StoreError(OtelImpactError):
    """The ClickHouse store could not be opened, queried or written."""

    code = "store"
    exit_code = 3


class StoreLockedError(StoreError):
    """An embedded chDB directory is held by another process."""

    code = "store_locked"


class ReceiverError(OtelImpactError):
    """The OTLP receiver could not start or serve."""

    code = "receiver"
    exit_code = 4


class AnalysisError(OtelImpactError):
    """An analysis stage could not run on the data it was given."""

    code = "analysis"
    exit_code = 5


class ExportError(OtelImpactError):
    """Results could not be exported (OTLP endpoint down after retries)."""

    code = "export"
    exit_code = 6


class LockedError(OtelImpactError):
    """Another analyzer run holds the job lock."""

    code = "locked"
    exit_code = 7


# Exit status of ``otel-impact analyze --fail-on-alert`` when alerts fired.
EXIT_ALERTS = 8

__all__ = [
    "EXIT_ALERTS",
    "AnalysisError",
    "ConfigError",
    "ExportError",
    "LockedError",
    "OtelImpactError",
    "ReceiverError",
    "StoreError",
    "StoreLockedError",
]
