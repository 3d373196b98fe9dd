"""Load ``impact.yaml`` into a frozen :class:`~otel_impact.config.model.ImpactConfig`.

Errors name the dotted path of the offending key (``business_metrics[0].window``) so a data team
can fix a cron job's config without reading a traceback.

>>> cfg = load_config_text("business_metrics: [{name: purchase, source: {event: business.purchase}}]")
>>> cfg.business_metrics[0].window
259200.0
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from otel_impact.config.model import ImpactConfig
from otel_impact.errors import ConfigError


def _dotted(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "<root>"


def config_from_dict(data: Any, source: str = "config") -> ImpactConfig:
    """Validate an already-parsed mapping; raise :class:`ConfigError` naming the first bad key."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source} must be a mapping at the top level, got {type(data).__name__}")
    try:
        return ImpactConfig.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            # pydantic adds the tag of a tagged union / function validators to the location
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            problems.append((_dotted(loc), msg))
        path, msg = problems[0]
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise ConfigError(msg + more, path=path) from exc


def load_config_text(text: str, source: str = "config") -> ImpactConfig:
    """Parse YAML text and validate it."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source} is not valid YAML: {exc}") from exc
    return config_from_dict(data, source)


def load_config(path: str | Path) -> ImpactConfig:
    """Read and validate the YAML file at ``path``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {p}: {exc.strerror or exc}") from exc
    return load_config_text(text, source=str(p))
