"""Generate the student template's notebooks from its modules.

    python tools/build_template_notebooks.py          # (re)write the notebooks
    python tools/build_template_notebooks.py --check  # exit 1 if they are out of date

Each module ``NAME.py`` of the lab's template gives ``notebooks/NAME.ipynb``: a title
cell (the module's docstring), a code cell with its imports, then for each definition a
markdown cell with its instructions (docstring, or the comments above a constant) and
a code cell with the definition. ``1-ab.ipynb`` chains the parts of the lab's combined
notebook (TP 1-ab's four) under the headings of the course's notebook (``# Part 1`` ..
``# Part 4``), which is how the grader tells them apart. The modules are read as text,
never imported, and the output depends on them only, so that running this twice gives
identical files.
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

from grader.lab import Lab
from grader.labs import current

ROOT = Path(__file__).resolve().parents[1]
INTRO = """# {title}

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
        code = "\n".join(lines[node.lineno - 1 : node.end_lineno])
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            module.imports.append(code)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            module.definitions.append(
                (ast.get_docstring(node) or "", _without_docstring(node, lines))
            )
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            module.definitions.append((_comments_above(lines, node.lineno), code))
        elif not (isinstance(node, ast.Expr) and node is tree.body[0]):  # the docstring
            raise ValueError(
                f"{path}:{node.lineno}: the template holds only imports and definitions"
            )
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


def combined_notebook(lab: Lab, modules: dict[str, Module]):
    """The parts of the lab's split, under the course notebook's headings (contract,
    "Submission layout")."""
    split = lab.split
    assignment = lab.assignment_of(split.parts[0])
    cells = [v4.new_markdown_cell(INTRO.format(title=assignment.title or assignment.name))]
    imported: set[str] = set()
    for k, (part, title) in enumerate(zip(split.parts, split.titles, strict=True), start=1):
        module = modules[part]
        cells.append(
            v4.new_markdown_cell(
                f"# {split.label} {k} : {title}\n\n{_title(module.docstring, '##')}"
            )
        )
        imports = [line for line in module.imports if line not in imported]
        if k == 1 and assignment.helper:  # the course's data and plots, as in its notebook
            imports.append(
                f"%run '{(assignment.helper.names or (assignment.helper.module,))[0]}.py'"
            )
        if imports:
            cells.append(v4.new_code_cell("\n".join(imports)))
        imported.update(imports)
        cells += _definition_cells(module)
    return _notebook(cells)


def build(lab: Lab) -> dict[Path, str]:
    """Each notebook's path and its text."""
    folder = lab.template / "notebooks"
    modules = {part: read_module(lab.template / f"{part}.py") for part in lab.part_names}
    notebooks = {
        folder / f"{part}.ipynb": part_notebook(module) for part, module in modules.items()
    }
    if lab.split:
        notebooks[folder / f"{lab.assignment_of(lab.split.parts[0]).name}.ipynb"] = (
            combined_notebook(lab, modules)
        )
    return {path: nbformat.writes(nb) + "\n" for path, nb in notebooks.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if a notebook differs from what would be written",
    )
    args = parser.parse_args(argv)
    stale = []
    for path, text in build(current()).items():
        written = path.read_text() if path.is_file() else None
        if written == text:
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
