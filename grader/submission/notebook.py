"""A notebook as the course hands it out, turned into code chunks.

Each code cell becomes Python the way IPython itself does it (its leading
indentation removed, `!shell` and `%magic` lines turned into calls); the chunk's
origin names the notebook and the cell, and its lines keep their numbers, so messages
point there. A notebook whose markdown headings follow the lab's split rule (the
course's `Part 1` .. `Part 4`) holds several parts.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import json
import os
import re
import warnings
from types import SimpleNamespace

import nbformat

from grader.lab import NotebookSplit
from grader.worker.syntax import Chunk

# Cell magics that run their body as ordinary code in the notebook's namespace: the body's
# definitions count (`%%time` over a cell of `def`s). IPython would pass it as a string.
BODY_MAGICS = re.compile(r"^\s*%%(time|capture)\b[^\n]*\n")
# IPython's automagics and shell aliases, which run without their `%` (`cd folder`, `ls`): a line
# that starts with one, not followed by what would make it Python (`ls = ...`, `cd(...)`).
AUTOMAGIC = re.compile(
    r"^(?=(?:bookmark|cat|cd|clear|conda|cp|dhist|dirs|env|history|ldir|less|lf|lk|ll|load_ext|ls|lx|"
    r"man|matplotlib|mkdir|more|mv|pip|popd|pushd|pwd|reload_ext|reset|rm|rmdir|run|sx|system|time|"
    r"timeit|who|whos)\b(?!\s*[=(.\[,:)]))",
    re.MULTILINE,
)


class NotebookError(Exception):
    pass


class Notebook:
    def __init__(self, name: str, data: bytes):
        self.name = name
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise NotebookError(f"{name} is not UTF-8 text, so not a notebook") from None
        try:
            with warnings.catch_warnings():  # cells without ids (nbformat 4.4) are fine
                warnings.simplefilter("ignore")
                self.cells = nbformat.reads(text, as_version=4).cells
        except Exception as e:  # noqa: BLE001 - nbformat raises several kinds on bad JSON or schema
            self.cells = _lenient_cells(text)
            if self.cells is None:
                raise NotebookError(
                    f"{name} is not a readable notebook ({type(e).__name__}: {e})"
                ) from None
        transform = _transformer().transform_cell
        self.chunks: list[tuple[int, Chunk]] = []  # (cell index, chunk) of the code cells
        for index, cell in enumerate(self.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            # Lines keep their numbers, so that messages point at the cell's line: the magic's
            # line stays as a blank one, and the blank lines IPython drops at the top come back.
            source = BODY_MAGICS.sub(lambda m: "\n" * m.group().count("\n"), cell.source, count=1)
            try:
                code = _python(transform, source)
            except Exception:  # noqa: BLE001 - keep the raw text; the loader names the cell
                code = source
            self.chunks.append((index, Chunk(f"{name}, cell {index + 1}", code)))

    def part_starts(self, split: NotebookSplit) -> dict[int, int]:
        """Heading number -> the index of its cell (the first heading of each number)."""
        starts: dict[int, int] = {}
        for index, cell in enumerate(self.cells):
            if cell.cell_type == "markdown" and cell.source.strip():
                number = split.number(cell.source.strip().splitlines()[0])
                if number is not None:
                    starts.setdefault(number, index)
        return starts

    def split_parts(self, split: NotebookSplit | None) -> dict[str, list[Chunk]] | None:
        """Contract: part k is every code cell from the top to the end of heading k; a
        later number ends the last part. None when the headings are not 1..n in order."""
        if split is None:
            return None
        starts = self.part_starts(split)
        n = len(split.parts)
        first = [starts.get(k) for k in range(1, n + 1)]
        if None in first or first != sorted(first):
            return None
        later = [i for k, i in starts.items() if k > n and i > first[-1]]
        ends = first[1:] + [min(later, default=len(self.cells))]
        return {
            part: [c for i, c in self.chunks if i < end]
            for part, end in zip(split.parts, ends, strict=True)
        }

    def all_chunks(self) -> list[Chunk]:
        return [c for _, c in self.chunks]


def _python(transform, source: str) -> str:
    """The cell as IPython runs it. Automagic lines are magics only where the cell does not
    parse without them, as IPython decides at run time (a name of the notebook's comes first)."""
    code = transform(source)
    if not _parses(code):
        code = transform(AUTOMAGIC.sub("%", source))
    return "\n" * max(_blank_top(source) - _blank_top(code), 0) + code


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


def _blank_top(text: str) -> int:
    """How many blank lines `text` starts with."""
    return next((i for i, line in enumerate(text.splitlines()) if line.strip()), 0)


@functools.cache
def _transformer():
    """IPython's cell transformer. Its module needs only the standard library, but importing
    it through its package first runs `IPython/__init__` (the whole shell: ~0.3 s, most of
    the time a notebook takes to read), so the module's file is loaded on its own."""
    try:
        package = importlib.util.find_spec("IPython").submodule_search_locations[0]
        spec = importlib.util.spec_from_file_location(
            "_ipython_inputtransformer2", os.path.join(package, "core", "inputtransformer2.py")
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.TransformerManager()
    except (
        ImportError,
        AttributeError,
        OSError,
    ):  # moved, or now importing its package: the slow way
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager()


def _lenient_cells(text: str) -> list | None:
    """The cells of a notebook that nbformat refuses over a detail (a cell without
    `metadata`, as some editors write it), or None when it is not a notebook at all."""
    try:
        raw = json.loads(text)
        cells = [
            SimpleNamespace(
                cell_type=c["cell_type"],
                source=c["source"] if isinstance(c["source"], str) else "".join(c["source"]),
            )
            for c in raw["cells"]
        ]
    except (
        ValueError,
        TypeError,
        KeyError,
        AttributeError,
        RecursionError,
    ):  # 100,000 `[`: too deep
        return None
    return cells if all(isinstance(c.source, str) for c in cells) else None
