"""Package layering: each stage imports only what sits to its left (see README, Layout).

``instrument`` is loaded inside host services, so it must stay cheap: no numpy/scipy/chdb and no
other stage. ``analyze`` is pure: no store, no exporter, no I/O packages.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "otel_impact"
BASE = {"semconv", "errors", "config"}
ALLOWED: dict[str, set[str]] = {
    "instrument": BASE | {"instrument"},
    "store": BASE | {"store"},
    "receive": BASE | {"receive", "store"},
    "analyze": BASE | {"analyze"},
    "export": BASE | {"export", "analyze", "store"},
    "config": {"config", "errors", "semconv"},
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
    return sorted(root.rglob("*.py")) if root.is_dir() else []


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
