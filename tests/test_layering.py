"""The tree is the architecture: imports point downward, there are no import cycles, and only
app/engine touches SpiffWorkflow.

Every import in `app/` is resolved to the module it loads (`from app import sla`, `import
app.sla.calendar`, `from . import routes`, imports inside functions), so the layer rules and the
cycle check see what Python sees.
"""

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"
# layer -> layers it must never import. A layer is a package under app/ or a top-level module.
LOW = {
    "engine",
    "handlers",
    "assignment",
    "sla",
    "access",
    "ticket_list",
    "worker",
    "web",
    "api",
    "cli",
    "seed",
    "demo",
    "metrics",
    "dashboard",
    "mail",
    "webhooks",
}
FORBIDDEN = {
    "clock": LOW | {"models"},
    "config": LOW | {"models"},
    "extensions": LOW | {"models"},
    "passwords": LOW | {"models"},
    "transactions": LOW | {"models"},
    "models": LOW,
    "handlers": LOW - {"handlers", "sla"},  # a handler may read and move the SLA clock
    "assignment": LOW - {"assignment"},
    "sla": LOW - {"sla"},
    "stats": LOW - {"sla"},  # the dashboard's aggregates: written by the engine, read by web, api, worker
    "access": LOW - {"access", "sla"},
    "ticket_list": LOW - {"ticket_list", "sla"},
    "engine": {"worker", "web", "api", "cli", "seed", "access"},
    "worker": {"web", "api", "cli", "seed"},
    "api": {"web", "worker", "cli", "seed"},
    "web": {"api", "worker", "cli", "seed"},
    "seed": {"engine", "worker", "web", "api", "cli"},
    "cli": {"web", "api"},
    "demo": {"web", "api", "cli", "seed", "metrics"},
    "metrics": {"web", "api", "worker", "cli", "seed", "demo", "dashboard"},
    "mail": LOW - {"mail"},  # e-mail out: reads models, writes the outbox's delivery state
    "webhooks": LOW - {"webhooks"},  # written by the engine with its commands, sent by the worker
    "dashboard": {"engine", "web", "api", "worker", "cli", "seed", "demo", "metrics"},
}


def _module_name(path: Path) -> str:
    parts = ("app", *path.relative_to(APP).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(APP.rglob("*.py"))}
PACKAGES = {_module_name(p) for p in MODULES.values() if p.name == "__init__.py"}


def _resolve(name: str) -> str | None:
    """The app module an import of `name` loads (the longest existing prefix), or None outside app."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in MODULES:
            return candidate
        parts.pop()
    return None


def imports_of(module: str) -> set[str]:
    """Every app module `module` imports, anywhere in its code (functions included)."""
    path = MODULES[module]
    package = module if module in PACKAGES else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(_resolve(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module
            for alias in node.names:  # `from app import sla` loads app.sla; `from app.x import f`, app.x
                found.add(
                    _resolve(f"{origin}.{alias.name}")
                    if f"{origin}.{alias.name}" in MODULES
                    else _resolve(origin)
                )
    found.discard(None)
    found.discard(module)
    return found


def _external(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


GRAPH = {module: imports_of(module) for module in MODULES}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of the graph as [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_respects_the_layers(module):
    layer = _layer(module)
    if layer != "engine":
        assert "SpiffWorkflow" not in _external(MODULES[module]), "only app/engine imports SpiffWorkflow"
    wrong = sorted(m for m in GRAPH[module] if _layer(m) in FORBIDDEN.get(layer, ()))
    assert not wrong, f"{module} ({layer}) must not import {', '.join(wrong)}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _layer(m) not in ("engine", None)))
def test_only_the_engine_facade_is_imported_from_outside_the_engine(module):
    inner = sorted(m for m in GRAPH[module] if m.startswith("app.engine."))
    assert not inner, f"{module} imports engine internals {', '.join(inner)}; use the facade app.engine"


def test_app_has_no_import_cycle():
    cycle = find_cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_cycle_finder_reports_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_every_import_form_is_resolved():
    assert "app.sla" in GRAPH["app.engine.runtime.store"]  # from app import sla
    assert "app.engine" in GRAPH["app.cli"]  # from app.engine import deploy_bundle (the facade)
    assert "app.models" in GRAPH["app.access"]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_starts_with_a_docstring(module):
    tree = ast.parse(MODULES[module].read_text())
    assert ast.get_docstring(tree), (
        f"{MODULES[module].relative_to(APP)} needs a docstring saying what it is for"
    )
