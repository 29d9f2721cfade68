"""The package's layers, read from its imports: each stage imports only the stages below it, and no cycles.

formats -> read -> verdicts -> parse -> count -> (state, flexmls) -> jobs -> cli: a module may
import the packages its stage lists below, and nothing else of logtrack.
``formats`` and ``read`` never import Polars; only ``cli`` imports typer or
rich's console. Imports under ``if TYPE_CHECKING:`` are left out (they
are never executed); imports inside functions count like any other.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "logtrack"

# stage -> the stages it may import (the top level's shared modules are stages of their own)
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "leftovers": set(),  # scratch files, removed if the process is stopped
    "output": {"errors", "leftovers"},
    "frames": set(),  # how Polars queries are run
    "formats": {"errors"},
    "config": {"errors", "formats"},
    "read": {"errors", "config", "formats"},
    "verdicts": {"errors", "formats", "read"},
    "parse": {"errors", "config", "formats", "frames", "read", "verdicts"},
    "count": {"errors", "config", "formats", "frames", "read", "verdicts", "parse"},
    "state": {"errors", "config"},
    "flexmls": {"errors", "config", "output"},
    "jobs": {"errors", "leftovers", "config", "output", "formats", "frames", "read", "verdicts", "parse", "count", "state",
             "flexmls"},
    "cli": {"errors", "leftovers", "config", "output", "formats", "frames", "read", "verdicts", "parse", "count", "state",
            "flexmls", "jobs"},
    "__main__": {"cli"},
}
for _allowed in ALLOWED.values():
    _allowed.add("__init__")  # the package's top: its version, nothing else
NO_POLARS = {"formats", "read"}
ONLY_CLI = ("typer", "rich.console")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports(path: Path) -> list[tuple[str, int]]:
    """The absolute names a module imports (and their lines), leaving out ``if TYPE_CHECKING:`` blocks."""
    tree = ast.parse(path.read_text())
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(n) for child in node.body for n in ast.walk(child))
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            found.append((source, node.lineno))
            if source.startswith("logtrack"):  # "from . import x": x may be a module of its own
                found.extend((f"{source}.{alias.name}", node.lineno) for alias in node.names)
    return found


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def known(name: str) -> str | None:
    """The logtrack module an imported name refers to (the longest one that exists), or None."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in MODULES:
            return candidate
    return None


@pytest.mark.parametrize("module", sorted(MODULES))
def test_each_stage_imports_only_the_stages_below_it(module: str) -> None:
    mine = stage(module)
    bad = []
    for name, line in imports(MODULES[module]):
        target = known(name) if name.startswith("logtrack") else None
        if target is not None and stage(target) != mine and stage(target) not in ALLOWED[mine]:
            bad.append(f"line {line}: {name} ({stage(target)})")
        if mine in NO_POLARS and name.split(".")[0] == "polars":
            bad.append(f"line {line}: polars")
        if mine != "cli" and any(name == lib or name.startswith(lib + ".") for lib in ONLY_CLI):
            bad.append(f"line {line}: {name}")
    assert not bad, f"{module} ({mine}) imports what its stage may not: " + "; ".join(bad)


def test_no_import_cycles() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for module, path in MODULES.items():
        for name, _ in imports(path):
            target = known(name) if name.startswith("logtrack") else None
            if target and target != module and not module.startswith(target + "."):  # a package's own __init__
                graph[module].add(target)
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*trail[trail.index(nxt):], nxt]))
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for module in sorted(MODULES):
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles: " + "; ".join(cycles)


def test_every_package_says_what_lives_there_and_what_it_may_import() -> None:
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert "May import" in doc or "imports" in doc, f"{init.parent.name}/__init__.py: no word on its imports"
