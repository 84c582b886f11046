"""A notebook's own call of the grader (`from grader import check; check()`) is how the
student asks for a grade, not code to grade: in a notebook that imports it, those statements
become blank lines (the other lines keep their numbers), so the worker never tries them and
the cheat report does not flag them. Any other use of the grader is left as written."""

from __future__ import annotations

import ast

from grader.worker.syntax import Chunk

_CALLS = ("check", "grader.check")


def _imports_check(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.ImportFrom)
        and node.module == "grader"
        and not node.level
        and all(a.name == "check" and a.asname is None for a in node.names)
    )


def _calls_check(node: ast.stmt) -> bool:
    value = node.value if isinstance(node, (ast.Expr, ast.Assign)) else None
    return isinstance(value, ast.Call) and ast.unparse(value.func) in _CALLS


def _tree(code: str) -> ast.Module | None:
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def without_self_check(chunks: list[tuple[int, Chunk]]) -> list[tuple[int, Chunk]]:
    """The (cell index, chunk) pairs of a notebook, its own check's statements blanked."""
    trees = [_tree(chunk.code) for _, chunk in chunks]
    if not any(_imports_check(node) for tree in trees if tree for node in tree.body):
        return chunks
    out = []
    for (index, chunk), tree in zip(chunks, trees, strict=True):
        spans = [
            (n.lineno, n.end_lineno)
            for n in (tree.body if tree else [])
            if _imports_check(n) or _calls_check(n)
        ]
        lines = chunk.code.splitlines(keepends=True)
        for first, last in spans:
            lines[first - 1 : last] = ["\n"] * (last - first + 1)
        out.append((index, Chunk(chunk.origin, "".join(lines)) if spans else chunk))
    return out
