"""The import rules of docs/architecture.md, read from the source with `ast` so they cannot quietly regress.

Every import counts, top-level or inside a function, and `importlib.import_module("literal")`: a lazy import is
still a dependency. The graph is built
over the project's own packages (detection, workers, webapp); an import names the most specific module that
exists (`from webapp.jobs import services` is an edge to webapp.jobs.services).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("detection", "workers", "webapp")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")}


def imported_names(path: Path, name: str) -> set[str]:
    """Every module name an import statement anywhere in the file names (relative imports resolved)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module":
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                found.add(node.args[0].value)  # importlib.import_module("webapp.jobs.services") is an import too
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports (third-party names are kept too, for the layer rules)."""
    modules = project_modules()
    graph = {}
    for name, path in modules.items():
        edges = set()
        for imported in imported_names(path, name):
            if imported.split(".")[0] in PACKAGES:
                if imported in modules:
                    edges.add(imported)
                elif imported.rpartition(".")[0] in modules:  # `from pkg.mod import function`
                    edges.add(imported.rpartition(".")[0])
            else:
                edges.add(imported)
        edges.discard(name)
        graph[name] = edges
    return graph


GRAPH = import_graph()


def offenders(layer: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items() if module.split(".")[0] == layer
        for target in targets if target.split(".")[0] in forbidden
    )


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in graph:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_it_reads_function_level_imports_too():
    assert "webapp.catalog.models" in GRAPH["webapp.jobs.services"] or "webapp.catalog.models" in GRAPH[
        "webapp.reports.access"]
    assert any(edge.startswith("detection.") for edge in GRAPH["workers.training"])  # only inside functions


def test_the_web_app_never_imports_the_workers():
    assert offenders("webapp", ("workers",)) == []


def test_the_library_imports_neither_django_nor_celery_nor_the_app():
    assert offenders("detection", ("django", "celery", "kombu", "rest_framework", "webapp", "workers")) == []


def test_there_are_no_import_cycles():
    assert cycles(GRAPH) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
