"""Copies of a course helper's definitions in a submission, recognised by what they hold
(contract, "Submission layout"): a top-level function or class whose normalised code (its
AST, docstrings left out) is one of the course's known versions (`Helper.versions`) is
replaced, on its own lines, by an import of the grader's version, whatever the file,
module or notebook cell that holds it. A definition of the student's own (any other
code) is graded as written. Reads, never runs, code.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass
from functools import cache

from grader.lab import Helper, Lab

DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass(frozen=True)
class Copy:
    origin: str  # "tme6_utils.py" or "nb.ipynb, cell 4"
    line: int
    name: str  # "accuracy"
    helper: str  # the grader's module that replaces it: "utils"

    def note(self) -> str:
        return (
            f"`{self.name}` ({self.origin}, line {self.line}) is the course's own; "
            f"the grader's version of it (course helper `{self.helper}`) runs in its place"
        )


def normalised(node: ast.AST) -> str:
    """A definition's code without what does not change it: comments, spacing, docstrings."""
    node = copy.deepcopy(node)
    for sub in ast.walk(node):
        first = sub.body[0] if isinstance(sub, DEFINITIONS) and sub.body else None
        if (
            isinstance(sub, DEFINITIONS)
            and isinstance(first, ast.Expr)
            and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)
        ):
            sub.body = sub.body[1:] or [ast.Pass()]
    return ast.dump(node)


def known(lab: Lab) -> dict[str, str]:
    """The normalised code of each definition of the course's helper versions -> the
    grader's module that replaces it."""
    return _known(tuple(a.helper for a in lab.assignments if a.helper))


@cache
def _known(helpers: tuple[Helper, ...]) -> dict[str, str]:
    found = {}
    for helper in helpers:
        for version in helper.versions:
            for node in ast.parse(version).body:
                if isinstance(node, DEFINITIONS):
                    found[normalised(node)] = helper.module
    return found


def replace_copies(origin: str, code: str, lab: Lab) -> tuple[str, list[Copy]]:
    """`code` with each top-level copy of a course definition turned into
    `from <helper> import <name>` on its first line (its other lines left blank, so that
    the others keep their numbers), and the copies found."""
    versions = known(lab)
    if not versions:
        return code, []
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return code, []
    lines = code.splitlines(keepends=True)
    copies = []
    for node in reversed(tree.body):
        if not isinstance(node, DEFINITIONS):
            continue
        helper = versions.get(normalised(node))
        if helper is None or node.end_lineno is None:
            continue
        start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
        end = node.end_lineno
        lines[start:end] = [f"from {helper} import {node.name}\n"] + ["\n"] * (end - start - 1)
        copies.append(Copy(origin, node.lineno, node.name, helper))
    return ("".join(lines), copies[::-1]) if copies else (code, [])


def replace_in_submission(
    files: dict[str, bytes], modules: dict, notebooks: dict, lab: Lab
) -> list[Copy]:
    """Replace the copies in a submission's modules (their chunks and the files the worker
    imports them from) and notebook cells; the copies found."""
    found: list[Copy] = []
    chunks = [(rel, c) for rel, (c,) in modules.items()]
    chunks += [(None, c) for nb in notebooks.values() for _, c in nb.chunks]
    for rel, chunk in chunks:
        chunk.code, copies = replace_copies(chunk.origin, chunk.code, lab)
        if copies and rel is not None:
            files[rel] = chunk.code.encode()
        found += copies
    return found


def notes(copies: list[Copy], chunks) -> list[str]:
    """What the report says of the copies that a part holds, or imports from a module."""
    origins, imported = {c.origin for c in chunks}, set()
    for chunk in chunks:
        try:
            tree = ast.parse(chunk.code)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
    return [
        c.note() for c in copies if c.origin in origins or c.origin.removesuffix(".py") in imported
    ]
