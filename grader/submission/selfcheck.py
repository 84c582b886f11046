"""A notebook's own call of the grader (`from grader import check; check()`) is how the
student asks for a grade, not code to grade: its statements become blank lines (the other
lines keep their numbers), so the worker never tries them and the cheat report does not
flag them."""
from __future__ import annotations

import ast

_CHECKS = ("check", "grader.check")


def _is_self_check(node: ast.stmt) -> bool:
    if isinstance(node, ast.ImportFrom):
        return node.module == "grader" and all(a.name == "check" for a in node.names)
    if isinstance(node, ast.Import):
        return all(a.name == "grader" and a.asname is None for a in node.names)
    value = node.value if isinstance(node, (ast.Expr, ast.Assign)) else None
    return isinstance(value, ast.Call) and ast.unparse(value.func) in _CHECKS


def without_self_check(code: str) -> str:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return code
    spans = [(n.lineno, n.end_lineno) for n in tree.body if _is_self_check(n)]
    if not spans:
        return code
    lines = code.splitlines(keepends=True)
    for first, last in spans:
        for k in range(first - 1, last):
            lines[k] = "\n"
    return "".join(lines)
