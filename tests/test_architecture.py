"""The kit's imports run one way: no module of ``lstm_lib`` or ``lstm_grader`` imports, at
any depth and however late (an import inside a function counts), a module that imports it.

``lstm_lib`` is what the learner's kernel runs; ``lstm_grader`` stands above it and grades.
A circle ties modules that should each be read, tested and changed alone, and a late
import that closes one is easy to add without noticing: this test notices.
"""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

PACKAGES = ("lstm_lib", "lstm_grader")


def kit_modules() -> dict[str, Path]:
    """Every module of the kit's packages, by dotted name (a package by its own name)."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def imported_modules(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The kit's modules that module ``name`` (read from ``path``) imports anywhere in it.

    ``from package import name`` counts as an import of ``package.name`` where that is a
    module, else of ``package``; a relative import is read from the module's own package.
    """
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = name.split(".") if is_package else name.split(".")[:-1]
                package = here[: len(here) - (node.level - 1)]
                base = ".".join([*package, *([base] if base else [])])
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            # ``import a.b.c`` imports a, a.b and a.b.c: the deepest of them is the one named
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles of ``graph`` (module: what it imports), each as the modules of
    one strongly connected group of two or more, sorted (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    lowest: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = lowest[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.get(module, ())):
            if imported not in index:
                visit(imported)
                lowest[module] = min(lowest[module], lowest[imported])
            elif imported in on_stack:
                lowest[module] = min(lowest[module], index[imported])
        if lowest[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return groups


def test_circles_are_found_through_late_and_relative_imports(tmp_path: Path) -> None:
    """Does the reader see an import inside a function, a relative one and one of a
    name from a module, and the circle they close?"""
    sources = {
        "pkg": "",
        "pkg.a": "def f():\n    from pkg.b import g\n",
        "pkg.b": "from . import c\n",
        "pkg.c": "import pkg.a.x\n",  # no such module: pkg.a is the one imported
        "pkg.d": "from pkg import a\n",
    }
    modules = {}
    for name, source in sources.items():
        path = tmp_path / (name.replace(".", "/") + ("/__init__.py" if name == "pkg" else ".py"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
        modules[name] = path
    graph = {name: imported_modules(name, path, modules) for name, path in modules.items()}
    assert graph == {
        "pkg": set(),
        "pkg.a": {"pkg.b"},
        "pkg.b": {"pkg.c"},
        "pkg.c": {"pkg.a"},
        "pkg.d": {"pkg.a"},
    }
    assert circles(graph) == [["pkg.a", "pkg.b", "pkg.c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_module_of_the_kit_imports_one_that_imports_it() -> None:
    """Is every import between the kit's modules one way, late imports included?"""
    modules = kit_modules()
    graph = {name: imported_modules(name, path, modules) for name, path in modules.items()}
    assert graph["lstm_grader.classgrade"], "the reader found the grader's imports"
    assert "lstm_grader.course" in graph["lstm_grader.course_settings"]
    found = circles(graph)
    assert found == [], "modules that import each other, directly or round a circle:\n" + (
        "\n".join(" <-> ".join(group) for group in found)
    )


def test_the_learners_library_never_imports_the_grader() -> None:
    """Does nothing in ``lstm_lib`` (what runs in the learner's kernel) import
    ``lstm_grader``, which stands above it?"""
    modules = kit_modules()
    upward = {
        (name, imported)
        for name, path in modules.items()
        if name.startswith("lstm_lib")
        for imported in imported_modules(name, path, modules)
        if imported.startswith("lstm_grader")
    }
    assert upward == set()
