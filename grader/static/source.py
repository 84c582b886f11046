"""Reading a submission's source on the trusted side, with `ast` (nothing runs): parse
without raising, resolve a dotted name through the imports, and the `Flag` a reading
reports at a line. Code comes as (origin, code) pairs: origin "tp1_manual.py" or
"nb.ipynb, cell 4"."""

from __future__ import annotations

import ast
from dataclasses import dataclass


@dataclass(frozen=True)
class Flag:
    where: str  # "tp1_manual.py, line 3" or "tp1.ipynb, cell 4, line 2"
    what: str  # "imports ctypes"

    def as_dict(self) -> dict:
        return {"where": self.where, "what": self.what}


def parse(code: str) -> ast.AST | None:
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _dotted(node: ast.AST) -> str:
    """`a.b.c` for an attribute chain on a name, else ''."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return ""


def import_aliases(tree: ast.AST) -> dict[str, str]:
    """Local name -> module path, from the imports (`import numpy as np`, `from os import system`)."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                names[(a.asname or a.name).split(".")[0]] = (
                    a.name if a.asname else a.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                names[a.asname or a.name] = f"{node.module}.{a.name}"
    return names


def resolve(node: ast.AST, aliases: dict[str, str]) -> str:
    name = _dotted(node)
    head, _, rest = name.partition(".")
    return ".".join(p for p in (aliases.get(head, head), rest) if p) if name else ""
