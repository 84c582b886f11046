"""Generate the student template's notebooks from its modules.

    python tools/build_template_notebooks.py          # (re)write the notebooks
    python tools/build_template_notebooks.py --check  # exit 1 if they are out of date

Each module ``student_template/NAME.py`` gives ``notebooks/NAME.ipynb``: a title cell
(the module's docstring), a code cell with its imports, then for each definition a
markdown cell with its instructions (docstring, or the comments above a constant) and
a code cell with the definition. ``tp1.ipynb`` chains the four TP 1-ab parts under the
``# Part 1`` .. ``# Part 4`` headings of the course's notebook, which is how the grader
tells them apart. The modules are read as text, never imported, and the output depends
on them only, so that running this twice gives identical files.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import v4

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "student_template"
NOTEBOOKS = TEMPLATE / "notebooks"
PARTS = ("tp1_manual", "tp1_autograd", "tp1_nn", "tp1_optim", "tp2_cnn", "answers")
# The course notebook's headings, as the grader recognises them (contract, "Submission layout").
TP1_HEADINGS = {
    "tp1_manual": '# Part 1 : Forward and backward passes "by hands"',
    "tp1_autograd": "# Part 2 : Simplification of the backward pass with torch.autograd",
    "tp1_nn": "# Part 3 : Simplification of the forward pass with torch.nn",
    "tp1_optim": "# Part 4 : Simplification of the SGD with torch.optim",
}
TP1_INTRO = """# TP 1-ab: Introduction to neural networks

Complete each function below. The grader reads this notebook part by part: part *k* is
graded on everything defined from the top of the notebook to the end of part *k*.
Code at the top level (training loops, plots) is not run by the grader: put what is
graded in the functions. Hand in either this notebook or the notebooks of each part,
not both."""
METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


@dataclass
class Module:
    docstring: str
    imports: list[str]  # one statement's source each
    definitions: list[tuple[str, str]]  # (instructions in markdown, code)


def _comments_above(lines: list[str], lineno: int) -> str:
    """The block of ``#`` comment lines right above line ``lineno`` (1-based), as text."""
    block = []
    i = lineno - 2
    while i >= 0 and lines[i].lstrip().startswith("#"):
        block.insert(0, lines[i].lstrip()[1:].strip())
        i -= 1
    return "\n".join(block)


def _without_docstring(node: ast.AST, lines: list[str]) -> str:
    """The definition's source, its docstring left out (it goes to the markdown cell)."""
    start = min([node.lineno] + [d.lineno for d in node.decorator_list])
    keep = list(range(start, node.end_lineno + 1))
    if ast.get_docstring(node) is not None:
        doc = node.body[0]
        # The blank line that set a class's docstring apart goes with it.
        blank_after = doc.end_lineno < node.end_lineno and not lines[doc.end_lineno].strip()
        keep = [n for n in keep if not doc.lineno <= n <= doc.end_lineno + blank_after]
    return "\n".join(lines[n - 1] for n in keep)


def read_module(path: Path) -> Module:
    source = path.read_text()
    lines = source.splitlines()
    tree = ast.parse(source, filename=str(path))
    module = Module(ast.get_docstring(tree) or "", [], [])
    for node in tree.body:
        code = "\n".join(lines[node.lineno - 1:node.end_lineno])
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            module.imports.append(code)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            module.definitions.append((ast.get_docstring(node) or "", _without_docstring(node, lines)))
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            module.definitions.append((_comments_above(lines, node.lineno), code))
        elif not (isinstance(node, ast.Expr) and node is tree.body[0]):  # the docstring
            raise ValueError(f"{path}:{node.lineno}: the template holds only imports and definitions")
    return module


def _title(docstring: str, level: str = "#") -> str:
    """The module docstring as markdown, its first line a heading."""
    first, _, rest = docstring.partition("\n")
    return f"{level} {first}\n{rest}".rstrip()


def _definition_cells(module: Module) -> list:
    cells = []
    for instructions, code in module.definitions:
        if instructions:
            cells.append(v4.new_markdown_cell(instructions))
        cells.append(v4.new_code_cell(code))
    return cells


def _notebook(cells: list):
    seen: dict[str, int] = {}
    for cell in cells:
        digest = hashlib.sha1(f"{cell.cell_type}\n{cell.source}".encode()).hexdigest()[:12]
        seen[digest] = seen.get(digest, 0) + 1
        # Ids from the content, so that editing one cell leaves the others' ids alone.
        cell.id = digest if seen[digest] == 1 else f"{digest}-{seen[digest]}"
    nb = v4.new_notebook(cells=cells, metadata=METADATA)
    nbformat.validate(nb)
    return nb


def part_notebook(module: Module):
    cells = [v4.new_markdown_cell(_title(module.docstring))]
    if module.imports:
        cells.append(v4.new_code_cell("\n".join(module.imports)))
    return _notebook(cells + _definition_cells(module))


def tp1_notebook(modules: dict[str, Module]):
    cells = [v4.new_markdown_cell(TP1_INTRO)]
    imported: set[str] = set()
    for part, heading in TP1_HEADINGS.items():
        module = modules[part]
        cells.append(v4.new_markdown_cell(f"{heading}\n\n{_title(module.docstring, '##')}"))
        imports = [line for line in module.imports if line not in imported]
        if part == "tp1_manual":
            imports.append("%run 'utils-data.py'")  # the course's data and plots, as in its notebook
        if imports:
            cells.append(v4.new_code_cell("\n".join(imports)))
        imported.update(imports)
        cells += _definition_cells(module)
    return _notebook(cells)


def build() -> dict[Path, str]:
    """Each notebook's path and its text."""
    modules = {part: read_module(TEMPLATE / f"{part}.py") for part in PARTS}
    notebooks = {NOTEBOOKS / f"{part}.ipynb": part_notebook(module) for part, module in modules.items()}
    notebooks[NOTEBOOKS / "tp1.ipynb"] = tp1_notebook(modules)
    return {path: nbformat.writes(nb) + "\n" for path, nb in notebooks.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a notebook differs from what would be written")
    args = parser.parse_args(argv)
    stale = []
    for path, text in build().items():
        current = path.read_text() if path.is_file() else None
        if current == text:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    for path in stale:
        verb = "out of date" if args.check else "written"
        print(f"{path.relative_to(ROOT)}: {verb}")
    if args.check and stale:
        print("run: python tools/build_template_notebooks.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
