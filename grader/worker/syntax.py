"""The loader's syntax policy, read from the `ast` alone: which top-level statements of a
submission are definitions that run at load time, which are top-level work that does not,
and which functions are a template's stubs. Pure: the trusted side reads submissions with
it (`grader.submission`, `grader.static`) without importing the worker's loader."""

from __future__ import annotations

import ast
from dataclasses import dataclass


@dataclass
class Chunk:
    origin: str  # "tp1_manual.py" or "1_ab_Intro_to_NNs.ipynb, cell 7"
    code: str


def where(origin: str, line: int) -> str:
    return f"{origin}, line {line}"


def defined_names(trees: list[ast.Module]) -> set[str]:
    names = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
    return names


def _walk_run(node: ast.AST):
    """The nodes of `node` that run when it runs: not the bodies of lambdas."""
    if isinstance(node, ast.Lambda):
        return
    yield node
    for child in ast.iter_child_nodes(node):
        yield from _walk_run(child)


def _calls(node: ast.AST, names: set[str]) -> bool:
    """Whether `node` calls one of `names` or IPython (`x = !ls`)."""
    for sub in _walk_run(node):
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name):
            if sub.func.id in names or sub.func.id == "get_ipython":
                return True
    return False


def computes(node: ast.stmt) -> bool:
    """Whether a statement may compute for long (a call or an operator), so is tried first."""
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    return any(isinstance(n, (ast.Call, ast.BinOp, ast.comprehension)) for n in _walk_run(node))


def _is_main_guard(node: ast.If) -> bool:
    test = node.test
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
    )


def targets(node: ast.Assign | ast.AnnAssign) -> set[str]:
    """The names an assignment binds (not those of a comprehension in its value)."""
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def deferrable(node: ast.stmt) -> bool:
    """An assignment to names, which can run later in the part's namespace (not `x = !ls`)."""
    return (
        isinstance(node, (ast.Assign, ast.AnnAssign))
        and node.value is not None
        and bool(targets(node))
        and not _calls(node.value, set())
    )


class _OwnClassName(ast.NodeTransformer):
    """In the methods of class `name`, the class's own name becomes `__class__`: the version
    that this class statement makes, as when its cell ran, not one defined later."""

    def __init__(self, name: str):
        self.name = name

    def visit_ClassDef(self, node):
        return node  # a nested class: its `__class__` is its own

    def visit_FunctionDef(self, node):
        if self.name in assigned(node) or self.name in {
            a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)
        }:
            return node  # a local of the same name
        return self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Name(self, node):
        if node.id == self.name and isinstance(node.ctx, ast.Load):
            return ast.copy_location(ast.Name("__class__", ast.Load()), node)
        return node


def own_class_name(node: ast.ClassDef) -> ast.ClassDef:
    rewrite = _OwnClassName(node.name)
    node.body = [
        rewrite.visit(n) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) else n
        for n in node.body
    ]
    return node


def runnable(node: ast.stmt, own: set[str]) -> bool:
    """Whether a statement is a definition (safe to run at load time)."""
    if isinstance(
        node,
        (
            ast.Import,
            ast.ImportFrom,
            ast.FunctionDef,
            ast.AsyncFunctionDef,
            ast.ClassDef,
            ast.Pass,
            ast.Global,
            ast.Nonlocal,
        ),
    ):
        return True
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        return node.value is not None and not _calls(node.value, own)
    if isinstance(node, ast.If):
        return not _is_main_guard(node) and all(runnable(n, own) for n in node.body + node.orelse)
    if isinstance(node, ast.Try):  # `try: import torchvision except ImportError: ...`
        blocks = (
            node.body + node.orelse + node.finalbody + [s for h in node.handlers for s in h.body]
        )
        return all(runnable(n, own) for n in blocks)
    return False


def assigned(node: ast.stmt) -> set[str]:
    return {
        n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }


def stub_raise(node: ast.stmt) -> ast.Raise | None:
    """The `raise NotImplementedError(...)` that is all of an undecorated function's body
    (after its docstring), with constant arguments only: nothing else can run in a call."""
    if not isinstance(node, ast.FunctionDef) or node.decorator_list:
        return None
    body = (
        node.body[1:]
        if isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
        else node.body
    )
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or body[0].cause is not None:
        return None
    exc = body[0].exc
    if (
        isinstance(exc, ast.Call)
        and not exc.keywords
        and all(isinstance(a, ast.Constant) for a in exc.args)
    ):
        exc = exc.func
    return body[0] if isinstance(exc, ast.Name) and exc.id == "NotImplementedError" else None
