"""The import graph runs one way: commands -> engine/report -> tasks/deploy ->
data/models/binarize/tracks/metrics -> runs/errors (and the light catalog/config), with no
cycles. Lazy imports inside functions count too: a cycle is a cycle whenever it closes."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "bibench_cli"
LEVEL = {
    "cli": 7,
    "commands": 6,
    "engine": 5,
    "report": 5,
    "tasks": 4,
    "deploy": 4,
    "metrics": 3,  # a task's metrics may name its dataset's tables (ShapeNet's parts)
    "data": 2,
    "models": 2,
    "binarize": 2,
    "tracks": 2,
    "runs": 1,
    "errors": 1,
    "catalog": 1,
    "config": 1,
    "compose": 1,
    "__init__": 1,
}
FOUNDATION = 1  # its modules may import each other (no cycle, checked below)
# Edges between packages of one level that the design allows (models -> binarize: an
# architecture may name the binarized layer types it declares).
SIDEWAYS = {("models", "binarize")}


def unit(module: str) -> str:
    """``bibench_cli.engine.train`` -> ``engine``; ``bibench_cli.cli`` -> ``cli``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports(path: Path) -> set[str]:
    """Every ``bibench_cli`` module ``path`` imports, at any depth of the file."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("bibench_cli")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target.startswith("bibench_cli"):
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports(p) for p in PACKAGE.rglob("*.py")}


def test_every_package_has_a_layer():
    assert {unit(m) for m in graph()} <= set(LEVEL)


def test_imports_only_go_down_or_sideways_where_allowed():
    wrong = []
    for module, targets in graph().items():
        for target in targets:
            a, b = unit(module), unit(target)
            if a == b or LEVEL[b] < LEVEL[a] or (a, b) in SIDEWAYS or LEVEL[a] == FOUNDATION:
                continue
            wrong.append(f"{module} -> {target}")
    assert wrong == []


def test_packages_form_no_cycle():
    edges: dict[str, set[str]] = {}
    for module, targets in graph().items():
        edges.setdefault(unit(module), set()).update(
            unit(t) for t in targets if unit(t) != unit(module)
        )
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in edges.get(node, ()):
            assert state.get(nxt) != 1, f"cycle: {' -> '.join([*path, node, nxt])}"
            if nxt not in state:
                visit(nxt, [*path, node])
        state[node] = 2

    for node in list(edges):
        if node not in state:
            visit(node, [])
