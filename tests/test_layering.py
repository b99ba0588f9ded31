"""The tree is the architecture: imports point downward, and only app/engine touches SpiffWorkflow."""

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"
# package -> packages it must never import
FORBIDDEN = {
    "models": {"engine", "handlers", "assignment", "worker", "web", "api"},
    "engine": {"worker", "web", "api"},
    "handlers": {"engine", "worker", "web", "api"},
    "assignment": {"engine", "worker", "web", "api"},
    "worker": {"web", "api"},
    "sla": {"engine", "handlers", "worker", "web", "api"},
}


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


MODULES = sorted(APP.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(APP)))
def test_module_respects_the_layers(path):
    package = path.relative_to(APP).parts[0] if len(path.relative_to(APP).parts) > 1 else None
    imports = _imports(path)
    if package != "engine":
        assert not [m for m in imports if m.split(".")[0] == "SpiffWorkflow"], "only app/engine imports SpiffWorkflow"
    for banned in FORBIDDEN.get(package, ()):
        assert not [m for m in imports if m.startswith(f"app.{banned}")], f"{package} must not import app.{banned}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(APP)))
def test_module_starts_with_a_docstring(path):
    tree = ast.parse(path.read_text())
    assert ast.get_docstring(tree), f"{path.relative_to(APP)} needs a docstring saying what it is for"
