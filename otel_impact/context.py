"""What every layer may know about a run: its time window and the context stages share.

:class:`Window` is the analysed range, :class:`JobContext` what a stage gets (the store client,
the config, the window, and the ``result`` / ``cache`` it reads and writes — what each stage may
touch there is declared in its :class:`~otel_impact.stages.graph.Stage`). This module imports
nothing of the product but config and errors, so the store, the stages and the pipeline can all
import it.

>>> from datetime import UTC, datetime
>>> w = Window(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 8, tzinfo=UTC))
>>> w.to_json()
{'start': '2026-11-01T00:00:00Z', 'end': '2026-11-08T00:00:00Z'}
>>> w.seconds
604800.0
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from otel_impact.config.model import ImpactConfig

if TYPE_CHECKING:
    from otel_impact.store.client import StoreClient


def iso_utc(value: datetime) -> str:
    """ISO-8601 UTC spelling used throughout the JSON result (``2026-11-20T00:00:00Z``)."""
    if value.tzinfo is None:
        raise ValueError("datetime must be timezone-aware (UTC)")
    text = value.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    """Parse an ISO-8601 timestamp; a naive one is taken as UTC. Dates mean midnight UTC."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"not an ISO-8601 timestamp: {text!r}") from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@dataclass(frozen=True)
class Window:
    """The analysed time range ``[start, end)`` (UTC, timezone-aware).

    Outcomes (business events) are analysed when their timestamp falls in the window;
    predictions are read from up to one join window earlier so an outcome early in the window
    can still be credited to the prediction that preceded it.
    """

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, datetime) or value.tzinfo is None:
                raise ValueError(f"Window.{name} must be a timezone-aware datetime, got {value!r}")
            object.__setattr__(self, name, value.astimezone(UTC))
        if self.end <= self.start:
            raise ValueError(f"Window.end ({iso_utc(self.end)}) must be after start ({iso_utc(self.start)})")

    @classmethod
    def ending(cls, end: datetime, seconds: float) -> Window:
        """The window of length ``seconds`` ending at ``end``."""
        return cls(end - timedelta(seconds=seconds), end)

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def to_json(self) -> dict[str, str]:
        return {"start": iso_utc(self.start), "end": iso_utc(self.end)}


@dataclass
class JobContext:
    """Everything a stage needs; stages add their sections to ``result``."""

    client: StoreClient  # clickhouse-connect client; its current database holds the tables
    config: ImpactConfig
    window: Window
    result: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict)
    seed: int = 0  # for any randomness: np.random.default_rng(ctx.seed)

    def warn(self, message: str) -> None:
        """Record a warning that ends up in the result's ``warnings`` list."""
        self.warnings.append(message)


__all__ = ["JobContext", "Window", "iso_utc", "parse_iso"]
