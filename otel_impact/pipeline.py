"""The analyzer job: run the analysis stages in order over one time window.

Each stage is a function ``stage(ctx: JobContext) -> None`` that queries the store through
``ctx.client`` (whose current database holds the tables), calls pure functions from
:mod:`otel_impact.analyze`, and writes its JSON-able section into ``ctx.result``. Stages that
produce something other stages reuse put it into ``ctx.cache``. A stage registers itself by one
import line and one entry in :data:`STAGES` below.

>>> from datetime import UTC, datetime
>>> w = Window(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 8, tzinfo=UTC))
>>> w.to_json()
{'start': '2026-11-01T00:00:00Z', 'end': '2026-11-08T00:00:00Z'}
>>> w.seconds
604800.0
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from otel_impact.config.model import ImpactConfig
from otel_impact.errors import AnalysisError, OtelImpactError
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


Stage = Callable[[JobContext], None]

# --- stages --------------------------------------------------------------------------------
# Imported here, after JobContext exists. Stage modules import JobContext only under
# ``if TYPE_CHECKING:`` (the stage modules are imported by this module, so a runtime import of
# otel_impact.pipeline from a stage module would be circular).
# Register a stage with one import line here and one entry in STAGES; they run in order.
from otel_impact.stages.attribution import run as attribution_stage  # noqa: E402
from otel_impact.stages.correlation import run as correlation_stage  # noqa: E402
from otel_impact.stages.deployments import run as deployments_stage  # noqa: E402
from otel_impact.stages.incidents import run as incidents_stage  # noqa: E402
from otel_impact.stages.lift import run as lift_stage  # noqa: E402
from otel_impact.stages.llm import run as llm_stage  # noqa: E402
from otel_impact.stages.llm import settings as llm_settings_stage  # noqa: E402
from otel_impact.stages.plan import run as tracking_plan_stage  # noqa: E402
from otel_impact.stages.resources import run as resources_stage  # noqa: E402
from otel_impact.stages.rollout import run as rollout_impact_stage  # noqa: E402
from otel_impact.stages.series import alert_rules as alert_rules_stage  # noqa: E402
from otel_impact.stages.series import run as series_stage  # noqa: E402
from otel_impact.stages.slo import run as slo_stage  # noqa: E402
from otel_impact.stages.stitching import run as stitching_stage  # noqa: E402

STAGES: list[tuple[str, Stage]] = [
    ("llm_settings", llm_settings_stage),
    ("tracking_plan", tracking_plan_stage),
    ("stitching", stitching_stage),
    ("attribution", attribution_stage),
    ("series", series_stage),
    ("llm", llm_stage),
    ("correlation", correlation_stage),
    ("deployments", deployments_stage),
    ("resources", resources_stage),
    ("lift", lift_stage),
    ("rollout_impact", rollout_impact_stage),
    ("incidents", incidents_stage),
    ("slos", slo_stage),
    ("alert_rules", alert_rules_stage),
]


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
) -> dict[str, Any]:
    """Run every stage in :data:`STAGES` over ``window`` and return the JSON-able result.

    ``progress`` (optional) is called with each stage's name before it runs. A stage failing
    with an unexpected exception becomes an :class:`AnalysisError` naming the stage; errors from
    the package's own tree (config, store) pass through unchanged. With ``on_stage_error``, any
    failing stage is skipped instead: the message naming it is recorded as a warning and passed
    to ``on_stage_error``, and the later stages still run (the demo shows whatever works).
    """
    ctx = JobContext(client=client, config=config, window=window, seed=seed)
    ctx.result["window"] = window.to_json()
    for name, stage in STAGES:
        if progress is not None:
            progress(name)
        try:
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
    out = to_jsonable(ctx.result)
    assert isinstance(out, dict)
    return out


__all__ = ["STAGES", "JobContext", "Stage", "Window", "analyze", "iso_utc", "parse_iso", "to_jsonable"]
