"""The apps stand on floors (DESIGN.md, rule 9): a lower app never imports a higher one, `common`
imports no app, and no module imports itself back through others. Imports are read from the source
(module level and inside functions alike: an import deferred to call time is still a dependency);
only `if TYPE_CHECKING:` blocks are left out, as they never run."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Lowest first. An app may import the apps before it, never those after it.
FLOORS = [
    "common",
    "incidents",
    "actions",
    "alerts",
    "postmortems",
    "notifications",
    "oncall",
    "statuspage",
    "analytics",
    "drills",
    "observability",
    "demo",
]
# `config` wires every app together (urls, celery) and sits above them all.
APPS = [app for app in FLOORS if (ROOT / app).is_dir()]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    modules = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                modules[module_name(path)] = path
    return modules


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(tree: ast.AST):
    """ast.walk without the bodies of `if TYPE_CHECKING:`."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules that `name` imports. `from package import thing` is an import of
    `package.thing` when that is a module, else of the package."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in _walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def app_of(module: str) -> str:
    return module.split(".", 1)[0]


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    rank = {app: FLOORS.index(app) for app in APPS}
    return sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        for target in targets
        if rank[app_of(target)] > rank[app_of(module)]
    )


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    counter = 0

    def visit(root: str) -> None:
        nonlocal counter
        # Iterative, so a deep chain of imports cannot exhaust Python's recursion limit.
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(found)


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph()


def test_no_app_imports_an_app_above_it(graph):
    assert upward_imports(graph) == []


def test_no_modules_import_each_other_in_a_circle(graph):
    assert cycles(graph) == []


def test_the_checker_sees_upward_imports_and_circles():
    graph = {
        "common.a": {"incidents.b"},
        "incidents.b": {"incidents.c"},
        "incidents.c": {"incidents.b"},
        "actions.d": {"common.a"},
    }
    assert upward_imports(graph) == ["common.a imports incidents.b"]
    assert cycles(graph) == [["incidents.b", "incidents.c"]]


def test_the_checker_reads_deferred_and_relative_imports(tmp_path, monkeypatch):
    package = tmp_path / "incidents"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "lower.py").write_text("from . import upper\n")
    (package / "upper.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import actions.x\n"
        "def later():\n    from incidents import lower\n"
    )
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    monkeypatch.setattr(f"{__name__}.APPS", ["incidents"])
    assert import_graph() == {
        "incidents": set(),
        "incidents.lower": {"incidents.upper"},
        "incidents.upper": {"incidents.lower"},
    }
