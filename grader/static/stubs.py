"""How much of a submission is more than the template's stubs: a part none of whose
functions does more than raise NotImplementedError has nothing to grade yet."""

from __future__ import annotations

import ast

from grader.static.source import parse
from grader.worker.syntax import stub_raise


def implemented(submission, parts=None) -> int:
    """How many top-level functions of the submission (of `parts` only, given them) do more
    than raise NotImplementedError."""
    return sum(
        isinstance(node, ast.FunctionDef) and not stub_raise(node)
        for part, chunks in submission.parts.items()
        if parts is None or part in parts
        for chunk in chunks
        for node in getattr(parse(chunk.code), "body", ())
    )
