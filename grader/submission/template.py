"""Has the student started a part? Compared with the lab's student template, read with `ast`.

A part is "not started" when each name it declares is defined as the template defines it (normalised: whitespace, comments, docstrings and notebook outputs do
not count), and no function or class of its code is a near miss of one of those names (a
`sgd_step` written instead of `sgd` is work, not a blank). A combined notebook's part holds
the cells from the top, so only the part's own names decide: a filled Part 1 does not start
an untouched Part 2. A lab without a template has every found part started.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

from grader.lab import Lab
from grader.suggest import suggest
from grader.worker.syntax import Chunk

PACKAGED = Path(__file__).resolve().parents[1] / "student_template"  # inside a wheel


def template_folder(lab: Lab) -> Path | None:
    """The lab's template: where a source checkout has it, else the copy a wheel ships."""
    for folder in (lab.template, PACKAGED if lab.template is not None else None):
        if folder is not None and folder.is_dir():
            return folder
    return None


def _definitions(codes, wanted=None) -> dict[str, str]:
    """Each top-level name -> its last definition (function, class or assignment), normalised
    (only for the names `wanted`, given them; the others map to "")."""
    defs: dict[str, str] = {}
    for code in codes:
        try:
            tree = ast.parse(code)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                defs[node.name] = _normalised(node) if wanted is None or node.name in wanted else ""
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        defs[target.id] = ast.dump(node.value) if node.value else ""
    return defs


def _normalised(node: ast.AST) -> str:
    """The definition's syntax tree without its docstrings (nor those of its methods)."""
    try:
        node = ast.parse(ast.unparse(node)).body[0]  # a copy
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return "<too deep to compare: written>"
    for inner in ast.walk(node):
        if (
            isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and len(inner.body) > 1
            and isinstance(inner.body[0], ast.Expr)
            and isinstance(inner.body[0].value, ast.Constant)
            and isinstance(inner.body[0].value.value, str)
        ):
            inner.body = inner.body[1:]
    return ast.dump(node)


@lru_cache(maxsize=8)
def _template_definitions(folder: Path, part: str) -> dict[str, str]:
    module = folder / f"{part}.py"
    return _definitions([module.read_text(encoding="utf-8")]) if module.is_file() else {}


def started(lab: Lab, part: str, chunks: list[Chunk]) -> bool:
    """Whether `chunks`, found as `part`, differ from the template's `part` (module docstring above)."""
    folder = template_folder(lab)
    template = _template_definitions(folder, part) if folder else {}
    if not template:
        return True
    declared = next(p.defines for p in lab.parts if p.name == part)
    defs = _definitions((c.code for c in chunks), set(declared))
    if any(defs.get(name) != template[name] for name in declared if name in template):
        return True
    known = {
        n for p in lab.parts for n in _template_definitions(folder, p.name)
    }  # other parts' names too
    written = {name for name in defs if name not in known}
    return any(suggest(name, written) for name in declared)
