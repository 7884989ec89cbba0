"""No import cycles inside `search/`, found by reading its source with `ast`, never importing it.

The trial loop lives below both the runner and the worker process, so imports run one way:
the runner and the worker process both import the loop, the runner launches workers, and a
worker process never imports the runner that launched it. Optuna's `study/_optimize.py` (the
loop under `Study.optimize`) and KerasTuner's `distribute/` (workers that never import the
tuner's chief) are the models. A cycle hides behind imports made inside functions: the module
loads, the tests pass, and the layering has quietly gone. This test reads every import, at any
depth, and names each cycle as a chain of modules.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Iterable, Iterator, Mapping, Set
from pathlib import Path

SEARCH_ROOT = Path(__file__).resolve().parents[2] / "search"

Graph = dict[str, set[str]]


def module_files(root: Path, package: str) -> dict[str, Path]:
    """Every module of the package rooted at `root`: dotted name -> file.

    A module is a file `x.py` or a package `x/__init__.py`; subpackages count recursively.
    """
    modules: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join([package, *parts])] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    """Whether an `if` tests `TYPE_CHECKING` or `typing.TYPE_CHECKING`."""
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def import_nodes(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement under `node`, in functions and classes too.

    The body of `if TYPE_CHECKING:` is skipped: it never runs, so it cannot make a cycle at
    import time (its `else:` branch does run and is kept).
    """
    yield from _imports_in(ast.iter_child_nodes(node))


def _imports_in(nodes: Iterable[ast.AST]) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in nodes:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _imports_in(node.orelse)
        else:
            yield from _imports_in(ast.iter_child_nodes(node))


def _containing_package(module: str, path: Path) -> str:
    """The package a relative import in `module` starts from."""
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _known(name: str, modules: Set[str]) -> str | None:
    """`name` if it is a module of the package, else its longest prefix that is, else None."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def imported_modules(
    node: ast.Import | ast.ImportFrom, module: str, path: Path, modules: Set[str]
) -> set[str]:
    """The package's modules that one import statement runs, parents' `__init__` left out.

    `import a.b.c` runs `a.b.c`; `from a.b import c` runs `a.b.c` when that is a module and
    `a.b` otherwise (`c` is then a name inside it). Importing `a.b.c` also runs `a/__init__`
    and `a/b/__init__`, but those package faces are kept light, and edges to them would make
    cycles that are not there, so only the target module counts.
    """
    if isinstance(node, ast.Import):
        targets = {_known(alias.name, modules) for alias in node.names}
        return {target for target in targets if target is not None}
    if node.level:
        base = _containing_package(module, path)
        for _ in range(node.level - 1):
            base = base.rpartition(".")[0]
        source = f"{base}.{node.module}" if node.module else base
    else:
        source = node.module or ""
    found: set[str] = set()
    for alias in node.names:
        name = f"{source}.{alias.name}"
        target = name if name in modules else _known(source, modules)
        if target is not None:
            found.add(target)
    return found


def import_graph(root: Path, package: str) -> Graph:
    """Module -> the package's modules it imports, anywhere in its source (self-imports dropped)."""
    files = module_files(root, package)
    names = set(files)
    graph: Graph = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets: set[str] = set()
        for node in import_nodes(tree):
            targets |= imported_modules(node, module, path, names)
        graph[module] = targets - {module}
    return graph


def strongly_connected(graph: Mapping[str, Set[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components of `graph`, in no particular order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component: set[str] = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def elementary_cycles(graph: Mapping[str, Set[str]], component: Set[str]) -> list[list[str]]:
    """Every simple cycle inside one strongly connected component, each once.

    Each cycle starts (and ends) at its smallest module name, so messages are stable: the
    cycles through `start` are searched among the nodes greater than `start` only.
    """
    cycles: list[list[str]] = []
    for start in sorted(component):
        allowed = {node for node in component if node > start}
        cycles += _cycles_from(graph, start, allowed)
    return cycles


def _cycles_from(graph: Mapping[str, Set[str]], start: str, allowed: Set[str]) -> list[list[str]]:
    """The simple cycles from `start` back to it that pass only through `allowed` nodes."""
    cycles: list[list[str]] = []
    paths = [[start]]
    while paths:
        path = paths.pop()
        for target in sorted(graph.get(path[-1], ())):
            if target == start:
                cycles.append([*path, start])
            elif target in allowed and target not in path:
                paths.append([*path, target])
    return cycles


def import_cycles(root: Path, package: str) -> list[str]:
    """Each import cycle of the package as `a -> b -> a`, sorted."""
    graph = import_graph(root, package)
    chains = [
        " -> ".join(cycle)
        for component in strongly_connected(graph)
        if len(component) > 1
        for cycle in elementary_cycles(graph, component)
    ]
    return sorted(chains)


def _write_package(root: Path, files: Mapping[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def test_search_has_no_import_cycle() -> None:
    cycles = import_cycles(SEARCH_ROOT, "search")
    assert not cycles, "import cycles in search/ (imports inside functions count):\n" + "\n".join(
        cycles
    )


def test_the_detector_finds_cycles_through_function_level_imports(tmp_path: Path) -> None:
    # Both shapes `search/` once had: the runner imports the launcher, which imports the
    # worker process inside a function; the worker process imports the launcher at the top
    # and the runner inside a function.
    _write_package(
        tmp_path / "pkg",
        {
            "__init__.py": "",
            "run/__init__.py": "",
            "run/_runner.py": """
                from pkg.run import _workers
            """,
            "run/_workers.py": """
                import os

                def worker_main() -> None:
                    from . import _worker_process
            """,
            "run/_worker_process.py": """
                import os

                from pkg.run._workers import worker_main

                def serve() -> None:
                    if os.environ:
                        import pkg.run._runner
            """,
        },
    )
    assert import_cycles(tmp_path / "pkg", "pkg") == [
        "pkg.run._runner -> pkg.run._workers -> pkg.run._worker_process -> pkg.run._runner",
        "pkg.run._worker_process -> pkg.run._workers -> pkg.run._worker_process",
    ]


def test_type_checking_imports_and_one_way_chains_make_no_cycle(tmp_path: Path) -> None:
    _write_package(
        tmp_path / "pkg",
        {
            "__init__.py": "",
            # The face imports a module below it; the parent-`__init__` rule keeps `_b`'s
            # import of `_a` from becoming `_b -> pkg.sub -> _b`.
            "sub/__init__.py": """
                from pkg.sub._b import B
            """,
            "sub/_a.py": """
                A = 1
            """,
            "sub/_b.py": """
                from typing import TYPE_CHECKING

                from pkg.sub import _a

                if TYPE_CHECKING:
                    from pkg.sub._c import C

                B = _a.A
            """,
            "sub/_c.py": """
                import typing

                from pkg.sub._b import B

                if typing.TYPE_CHECKING:
                    import pkg
                else:
                    from pkg.sub import _a
                C = B
            """,
        },
    )
    graph = import_graph(tmp_path / "pkg", "pkg")
    assert graph == {
        "pkg": set(),
        "pkg.sub": {"pkg.sub._b"},
        "pkg.sub._a": set(),
        "pkg.sub._b": {"pkg.sub._a"},
        "pkg.sub._c": {"pkg.sub._a", "pkg.sub._b"},
    }
    assert import_cycles(tmp_path / "pkg", "pkg") == []
