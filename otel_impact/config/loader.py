"""Load ``impact.yaml`` into a frozen :class:`~otel_impact.config.model.ImpactConfig`.

Errors name the dotted path of the offending key (``business_metrics[0].window``) so a data team
can fix a cron job's config without reading a traceback. Every problem pydantic finds is listed
(the first one is the error's ``path``), unknown keys come with a "did you mean".

What is refused before validation, always as a :class:`~otel_impact.errors.ConfigError`:

* a file that is not UTF-8 text (UTF-16/32 byte-order marks are named), or contains NUL bytes;
* an empty file (nothing but whitespace and comments);
* YAML that nests deeper than :data:`MAX_DEPTH` levels, or holds more than :data:`MAX_NODES`
  nodes once aliases are expanded (alias bombs);
* a key given twice in the same mapping (YAML would silently keep the last one).

>>> cfg = load_config_text("business_metrics: [{name: purchase, source: {event: business.purchase}}]")
>>> cfg.business_metrics[0].window
259200.0
>>> load_config_text("job: {lookback: 1h}\\njob: {lookback: 2h}")
Traceback (most recent call last):
...
otel_impact.errors.ConfigError: job: key given twice (lines 1 and 2)
"""

from __future__ import annotations

import codecs
import difflib
import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from otel_impact.config.check import cross_problems
from otel_impact.config.model import ImpactConfig
from otel_impact.errors import ConfigError

MAX_DEPTH = 64
"""Deepest nesting of mappings/lists accepted in a config file."""
MAX_NODES = 200_000
"""Most YAML nodes (aliases counted at every use) accepted in a config file."""
MAX_BYTES = 8 * 1024 * 1024
"""Largest config file read."""

_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def _dotted(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "<root>"


def _unwrap(tp: Any) -> list[Any]:
    """The model / container types hiding in an annotation (Optional, Annotated, unions)."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for a in typing.get_args(tp) for t in _unwrap(a)]
    return [tp]


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The config model whose keys are valid at ``loc`` (for "did you mean"), if it is one."""
    current: list[Any] = [ImpactConfig]
    for part in loc:
        nxt: list[Any] = []
        for tp in current:
            origin = typing.get_origin(tp)
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                if isinstance(part, str) and part in tp.model_fields:
                    nxt += _unwrap(tp.model_fields[part].annotation)
            elif origin in (tuple, list) and isinstance(part, int):
                nxt += [t for a in typing.get_args(tp) if a is not Ellipsis for t in _unwrap(a)]
            elif origin is dict and isinstance(part, str):
                nxt += _unwrap(typing.get_args(tp)[1])
        current = nxt
    models = [t for t in current if isinstance(t, type) and issubclass(t, BaseModel)]
    return models[0] if models else None


def _did_you_mean(loc: tuple[int | str, ...]) -> str:
    model = _model_at(loc[:-1])
    key = loc[-1] if loc else None
    if model is None or not isinstance(key, str):
        return ""
    close = difflib.get_close_matches(key, list(model.model_fields), n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (known keys: {', '.join(model.model_fields)})"


def problems_of(exc: ValidationError) -> list[tuple[str, str]]:
    """``(dotted path, message)`` for every error in a pydantic ValidationError."""
    problems = []
    for err in exc.errors():
        # pydantic adds the tag of a tagged union / function validators to the location
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key" + _did_you_mean(loc)
        problems.append((_dotted(loc), msg))
    return problems


def raise_problems(problems: list[tuple[str, str]]) -> None:
    """Raise one ConfigError at the first problem's path whose message lists all of them."""
    if not problems:
        return
    (path, msg), rest = problems[0], problems[1:]
    raise ConfigError(msg + "".join(f"\n  {p}: {m}" for p, m in rest), path=path)


def config_from_dict(data: Any, source: str = "config") -> ImpactConfig:
    """Validate an already-parsed mapping; raise :class:`ConfigError` naming every bad key."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source} must be a mapping at the top level, got {type(data).__name__}")
    try:
        cfg = ImpactConfig.model_validate(data)
    except ValidationError as exc:
        raise_problems(problems_of(exc))
        raise AssertionError("a ValidationError has errors") from exc  # pragma: no cover
    raise_problems(cross_problems(cfg))
    return cfg


def _key_path(parent: str, key: Any) -> str:
    if isinstance(key, int) and not isinstance(key, bool):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else str(key)


def _check_tree(root: yaml.Node) -> None:
    """Depth, size and duplicate keys of a composed YAML document, iteratively (no recursion)."""
    stack: list[tuple[yaml.Node, str, int]] = [(root, "", 0)]
    seen = 0
    while stack:
        node, path, depth = stack.pop()
        seen += 1
        if seen > MAX_NODES:
            raise ConfigError(f"the config holds more than {MAX_NODES:,} values (aliases expanded)")
        if depth > MAX_DEPTH:
            raise ConfigError(f"nested deeper than {MAX_DEPTH} levels", path=path or "<root>")
        if isinstance(node, yaml.MappingNode):
            first_line: dict[Any, int] = {}
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    key: Any = key_node.value
                    if key_node.tag == "tag:yaml.org,2002:merge":
                        stack.append((value_node, path, depth + 1))
                        continue
                    line = key_node.start_mark.line + 1
                    if key in first_line:
                        raise ConfigError(
                            f"key given twice (lines {first_line[key]} and {line})", path=_key_path(path, key)
                        )
                    first_line[key] = line
                else:
                    key = "<complex key>"
                stack.append((value_node, _key_path(path, key), depth + 1))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                stack.append((item, f"{path}[{i}]", depth + 1))


def parse_yaml(text: str, source: str = "config") -> Any:
    """Parse one YAML document with the checks above; ConfigError for anything wrong."""
    if "\0" in text:
        raise ConfigError(f"{source} contains NUL bytes; it is not a text file")
    try:
        loader = yaml.SafeLoader(text)
    except yaml.YAMLError as exc:  # the reader refuses control characters up front
        raise ConfigError(f"{source} is not valid YAML: {exc}") from exc
    try:
        node = loader.get_single_node()
        if node is None:
            raise ConfigError(f"{source} is empty: an impact.yaml needs at least its business_metrics")
        _check_tree(node)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source} is not valid YAML: {exc}") from exc
    except RecursionError as exc:
        raise ConfigError(f"{source} nests too deeply to read (more than {MAX_DEPTH} levels)") from exc
    finally:
        loader.dispose()


def load_config_text(text: str, source: str = "config") -> ImpactConfig:
    """Parse YAML text and validate it."""
    try:
        data = parse_yaml(text, source)
        return config_from_dict(data, source)
    except ConfigError:
        raise
    except (RecursionError, MemoryError, OverflowError, ValueError, TypeError, KeyError) as exc:
        # the last line of defence: whatever the file holds, the answer is a config error
        raise ConfigError(f"{source} cannot be read as a config: {type(exc).__name__}: {exc}") from exc


def decode_config(raw: bytes, source: str = "config") -> str:
    """The text of a config file: UTF-8 (a UTF-8 BOM is dropped); anything else is a ConfigError."""
    for bom, name in _BOMS:
        if raw.startswith(bom):
            raise ConfigError(f"{source} is {name} encoded; save it as UTF-8")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{source} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); save it as UTF-8"
        ) from exc


def load_config(path: str | Path) -> ImpactConfig:
    """Read and validate the YAML file at ``path``."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {p}: {exc.strerror or exc}") from exc
    if len(raw) > MAX_BYTES:
        raise ConfigError(f"config file {p} is larger than {MAX_BYTES // (1024 * 1024)} MiB")
    return load_config_text(decode_config(raw, str(p)), source=str(p))
