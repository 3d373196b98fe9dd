"""Package layering: each stage imports only what sits to its left (see README, Layout).

``instrument`` is loaded inside host services, so it must stay cheap: no numpy/scipy/chdb and no
other stage. ``analyze`` is pure: no store, no exporter, no I/O packages.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "otel_impact"
BASE = {"semconv", "errors", "config", "context", "records", "docpage"}
# every top-level module/package of otel_impact → the top-level entries it may import at run time
ALLOWED: dict[str, set[str]] = {
    "semconv": set(),
    "errors": set(),
    "config": {"config", "errors", "semconv"},
    "context": {"config", "errors", "semconv"},
    "records": {"records", "context", "errors", "semconv", "docpage"},
    "docpage": set(),
    "instrument": {"semconv", "errors", "config", "instrument"},
    "store": BASE | {"store"},
    "receive": BASE | {"receive", "store"},
    "analyze": BASE | {"analyze"},
    "plan": BASE | {"plan", "store"},
    "export": BASE | {"export", "store"},
    "report": BASE | {"report", "export", "store"},
    "evaluation": BASE | {"analyze"},
    "tree": BASE | {"analyze", "store"},
    "stages": BASE | {"stages", "analyze", "store", "plan"},
    "pipeline": BASE | {"stages", "store"},
    "joblock": BASE | {"store"},
    "job": BASE | {"store", "export", "report", "evaluation", "joblock", "pipeline"},
    "testing": BASE | {"instrument", "plan"},
    "demo": BASE
    | {"demo", "instrument", "receive", "store", "analyze", "export", "report", "stages", "pipeline", "job"},
    "cli": BASE
    | {"cli", "receive", "store", "plan", "export", "report", "pipeline", "job", "joblock", "tree", "demo"},
    "__init__": {"instrument"},
}
FORBIDDEN_THIRD_PARTY: dict[str, set[str]] = {
    "instrument": {"numpy", "scipy", "chdb", "clickhouse_connect", "pandas"},
    "analyze": {"chdb", "clickhouse_connect", "opentelemetry", "grpc", "requests"},
}


def _imports(path: Path) -> set[str]:
    """Module paths imported at run time by ``path`` (``if TYPE_CHECKING:`` blocks excluded)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(child)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for stmt in node.body
        for child in ast.walk(stmt)
    }
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(stage: str) -> list[Path]:
    root = PKG / stage
    if root.is_dir():
        return sorted(root.rglob("*.py"))
    return [PKG / f"{stage}.py"]


def _top_level() -> set[str]:
    return {
        p.name.removesuffix(".py") for p in PKG.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()
    }


def test_every_top_level_entry_has_a_rule() -> None:
    assert _top_level() == set(ALLOWED)


@pytest.mark.parametrize("stage", sorted(ALLOWED))
def test_stage_imports_only_its_left(stage: str) -> None:
    offenders = []
    for path in _modules(stage):
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "otel_impact" and len(parts) > 1 and parts[1] not in ALLOWED[stage]:
                offenders.append(f"{path.relative_to(PKG)} imports {name}")
            if parts[0] in FORBIDDEN_THIRD_PARTY.get(stage, set()):
                offenders.append(f"{path.relative_to(PKG)} imports {name}")
    assert offenders == []


def _is_module(dotted: str) -> bool:
    path = PKG.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _private_uses(path: Path) -> list[str]:
    """Private names (``_x``) of another otel_impact module that ``path`` imports or reaches into."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = ".".join(path.relative_to(PKG.parent).with_suffix("").parts).removesuffix(".__init__")
    modules: set[str] = set()  # local names bound to otel_impact modules
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("otel_impact"):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__") and node.module != here:
                    out.append(f"from {node.module} import {alias.name}")
                if _is_module(f"{node.module}.{alias.name}"):
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("otel_impact") and alias.asname:
                    modules.add(alias.asname)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            out.append(f"{node.value.id}.{node.attr}")
    return out


def test_no_module_uses_another_modules_private_names() -> None:
    offenders = [
        f"{path.relative_to(PKG)}: {use}" for path in sorted(PKG.rglob("*.py")) for use in _private_uses(path)
    ]
    assert offenders == []
