"""The shape of the code: module-level imports of the project's own modules form no cycle, and no
function imports one of them to dodge a cycle (functions import only cloud SDKs, lazily)."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ROOTS = ("shared", "lambda", "localdev")
SINGLE_MODULES = ("function_app",)


def _modules() -> dict[str, Path]:
    out = {}
    for root in ROOTS:
        for path in (REPO / root).rglob("*.py"):
            if "node_modules" in path.parts:
                continue
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    for name in SINGLE_MODULES:
        out[name] = REPO / f"{name}.py"
    return out


MODULES = _modules()


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    names = [f"{target}.{a.name}" for a in node.names]
    found = [n for n in names if n in MODULES]  # "from . import sub" imports the submodule
    return found or ([target] if target in MODULES else [])


def _type_checking_only(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def _imports(module: str, path: Path) -> tuple[set[str], list[str]]:
    """(modules imported at module level, "line: module" of project imports inside functions)."""
    tree = ast.parse(path.read_text())
    is_package = path.name == "__init__.py"
    top: set[str] = set()
    inside: list[str] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking_only(child):
                continue  # annotations only: never executed
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            targets: list[str] = []
            if isinstance(child, ast.Import):
                targets = [a.name for a in child.names if a.name in MODULES]
            elif isinstance(child, ast.ImportFrom):
                targets = _resolve(module, is_package, child)
            if targets:
                if in_function:
                    inside.extend(f"{path.relative_to(REPO)}:{child.lineno}: {t}" for t in targets)
                else:
                    top.update(targets)
            visit(child, nested)

    visit(tree, False)
    return top, inside


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), or a module importing itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph.get(v, ()):
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return out


def test_the_import_graph_of_the_project_has_no_cycle():
    assert _cycles({name: top for name, (top, _) in GRAPH.items()}) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_function_imports_a_module_of_the_project():
    assert [line for _, (_, inside) in GRAPH.items() for line in inside] == []


def test_the_graph_sees_the_project_imports():
    assert {"shared.kinds", "shared.sections"} <= GRAPH["shared.config"][0]
