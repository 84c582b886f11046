"""The modules a submission's code imports, read from its source: a zygote imports those
of them the lab lists before it forks a worker."""

from __future__ import annotations

import ast

from grader.static.source import parse


def imported(submission, modules) -> tuple[str, ...]:
    """Those of `modules` whose package the submission's code imports somewhere."""
    roots = {
        alias.name.split(".")[0]
        if isinstance(node, ast.Import)
        else (node.module or "").split(".")[0]
        for chunks in submission.parts.values()
        for chunk in chunks
        for node in ast.walk(parse(chunk.code) or ast.Module(body=[], type_ignores=[]))
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    return tuple(m for m in modules if m.split(".")[0] in roots)
