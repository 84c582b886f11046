"""Near misses: "`sgd` not found; did you mean `sgd_step`?" (contract)."""

from __future__ import annotations

import ast
import difflib


def suggest(name: str, names) -> list[str]:
    """Names that look like `name`: `sgd_step` for `sgd`, `Forward` for `forward`."""
    names = [n for n in names if n != name]
    lowered = {n.lower(): n for n in names}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.6)
    prefixed = [
        n
        for n in names
        if n.lower().startswith(name.lower()) or name.lower().startswith(n.lower()) and len(n) > 2
    ]
    return list(dict.fromkeys(prefixed + [lowered[c] for c in close]))[:3]


def did_you_mean(name: str, names) -> str:
    found = suggest(name, names)
    return f"; did you mean {' or '.join(f'`{n}`' for n in found)}?" if found else ""


def own_names(codes, modules=()) -> set[str]:
    """What a student could have meant: the names `codes` define at top level (functions,
    classes, assignments, within `if`, `try`, `with` too) or import from `modules` (the
    submission's own files), never a library's (`transforms` of
    `import torchvision.transforms as transforms`). Code that does not parse defines none."""
    names: set[str] = set()
    for code in codes:
        try:
            body = list(ast.parse(code).body)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        while body:
            node = body.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in modules:
                names |= {a.asname or a.name for a in node.names if a.name != "*"}
            elif isinstance(node, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
                body += [n for b in ("body", "orelse", "finalbody") for n in getattr(node, b, [])]
                body += [n for h in getattr(node, "handlers", []) for n in h.body]
    return names
