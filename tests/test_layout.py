"""The layout holds: no import cycle in grader/ (the whole tree, and inside each package),
and the engine (grader/ outside grader/labs/, where the lab finder names its default) imports
no lab and names none of its parts."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

GRADER = Path(__file__).resolve().parents[1] / "grader"
ENGINE = sorted(p for p in GRADER.rglob("*.py") if "labs" not in p.relative_to(GRADER).parts[:1])

# Words of the RDFIA lab the engine must not say in its code (comments and docstrings may
# give them as examples).
LAB_WORDS = ("rdfia", "tp1_", "tp2_", "convnet", "cifar", "circles", "tme5", "tme6")
# The distribution's own name (its config folder, metadata, wheel and help), not the lab's.
DISTRIBUTION = ("rdfia-grader", "rdfia_grader", "'rdfia-grader")


def module_name(path: Path) -> str:
    parts = path.relative_to(GRADER.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, known: set[str]) -> set[str]:
    """The modules of grader/ that `path` imports, at any depth of its code."""
    found = set()
    package = (
        module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    )
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1]
                    + ([base] if base else [])
                )
            # `from a import b`: module a.b if it is one, else a name of a
            names = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names
            ]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in GRADER.rglob("*.py")}
    known = set(files)
    return {name: imports(path, known) - {name} for name, path in files.items()}


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of `graph`, or None (depth-first search)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_import_graph_of_grader_has_no_cycle(graph):
    # A package's __init__ is its own node: `a.b` importing `a` is not `a` importing `a.b`.
    assert cycle(graph) is None, " -> ".join(cycle(graph))


def test_no_package_has_a_cycle_among_its_modules(graph):
    packages = {name.rpartition(".")[0] for name in graph}
    for package in sorted(packages):
        inside = {
            n: {m for m in deps if m.rpartition(".")[0] == package}
            for n, deps in graph.items()
            if n.rpartition(".")[0] == package
        }
        assert cycle(inside) is None, f"{package}: " + " -> ".join(cycle(inside))


def test_the_graph_sees_the_cycle_it_forbids():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) is None


def test_the_engine_imports_no_lab(graph):
    engine = {module_name(p) for p in ENGINE}
    wrong = {
        (m, d)
        for m in engine
        for d in graph[m]
        if d.startswith("grader.labs.") or d == "grader.reference"
    }
    assert not wrong, sorted(wrong)


def _docstrings(tree: ast.AST) -> set[int]:
    return {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }


def lab_words(path: Path) -> list[str]:
    """The lab's words in `path`'s code: its names and its strings but docstrings."""
    tree = ast.parse(path.read_text())
    docs, found = _docstrings(tree), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            text = node.value
        elif isinstance(node, ast.Name):
            text = node.id
        elif isinstance(node, ast.Attribute):
            text = node.attr
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            text = node.name
        elif isinstance(node, ast.alias):
            text = node.name
        else:
            continue
        words = [
            w
            for w in text.split()
            if not w.startswith(DISTRIBUTION) and any(x in w.lower() for x in LAB_WORDS)
        ]
        found += [
            f"{path.relative_to(GRADER.parent)}:{getattr(node, 'lineno', '?')}: {w}" for w in words
        ]
    return found


def test_the_engine_names_no_lab_part_or_course():
    found = [hit for path in ENGINE for hit in lab_words(path)]
    assert not found, "\n".join(found)


def test_the_lab_words_are_found_where_they_are():
    assert lab_words(GRADER / "labs" / "rdfia" / "__init__.py")


# -- the lab's hooks ---------------------------------------------------------------------------
def test_the_installed_lab_is_found_by_its_entry_point(monkeypatch):
    from grader import labs

    monkeypatch.delenv("GRADER_LAB", raising=False)
    assert labs._installed() == "grader.labs.rdfia"  # pyproject.toml's [project.entry-points]
    assert labs.current() is labs.load("grader.labs.rdfia")


def test_the_worker_sees_the_lab_folders_it_declares_and_nothing_instructor_only():
    from grader.labs import instructor_only
    from grader.labs.rdfia import LAB
    from grader.sandbox.plan import worker_packages

    seen = worker_packages()
    assert seen == ["worker", "labs/rdfia/worker", "labs/rdfia/data"]
    hidden = [p.resolve() for p in (*instructor_only(LAB), LAB.rubric)]
    assert {p.name for p in hidden} >= {"oracle", "questions.toml", "reference", "rubric"}
    assert not any(
        (GRADER / s).resolve() == h or h.is_relative_to((GRADER / s).resolve())
        for s in seen
        for h in hidden
    )
