"""A notebook as the course hands it out, turned into code chunks.

Each code cell becomes Python the way IPython itself does it (its leading
indentation removed, `!shell` and `%magic` lines turned into calls); the chunk's
origin names the notebook and the cell, so messages point there. A notebook with
markdown headings `Part 1` .. `Part 4` in order is the whole of TP 1-ab.
"""
from __future__ import annotations

import re

import nbformat
from IPython.core.inputtransformer2 import TransformerManager

from grader.worker.loader import Chunk

PART_HEADING = re.compile(r"^\s*#{1,6}\s*Part\s+(\d+)\b", re.IGNORECASE)
TP1_PARTS = ("tp1_manual", "tp1_autograd", "tp1_nn", "tp1_optim")


class NotebookError(Exception):
    pass


class Notebook:
    def __init__(self, name: str, data: bytes):
        self.name = name
        try:
            nb = nbformat.reads(data.decode("utf-8"), as_version=4)
        except UnicodeDecodeError:
            raise NotebookError(f"{name} is not UTF-8 text, so not a notebook") from None
        except Exception as e:  # nbformat raises several kinds on bad JSON or schema
            raise NotebookError(f"{name} is not a readable notebook ({type(e).__name__}: {e})") from None
        self.cells = nb.cells
        transform = TransformerManager().transform_cell
        self.chunks: list[tuple[int, Chunk]] = []  # (cell index, chunk) of the code cells
        for index, cell in enumerate(self.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            try:
                code = transform(cell.source)
            except Exception:  # noqa: BLE001 - keep the raw text; the loader names the cell
                code = cell.source
            self.chunks.append((index, Chunk(f"{name}, cell {index + 1}", code)))

    def part_starts(self) -> dict[int, int]:
        """`Part N` heading -> the index of its cell (the first heading of each number)."""
        starts: dict[int, int] = {}
        for index, cell in enumerate(self.cells):
            if cell.cell_type == "markdown" and cell.source.strip():
                match = PART_HEADING.match(cell.source.strip().splitlines()[0])
                if match:
                    starts.setdefault(int(match.group(1)), index)
        return starts

    def tp1_parts(self) -> dict[str, list[Chunk]] | None:
        """Contract: part k is every code cell from the top to the end of Part k;
        `Part 5` or later ends Part 4. None when the headings are not Part 1..4 in order."""
        starts = self.part_starts()
        if not all(k in starts for k in (1, 2, 3, 4)) or sorted(starts[k] for k in (1, 2, 3, 4)) != [starts[k] for k in (1, 2, 3, 4)]:
            return None
        later = [i for k, i in starts.items() if k >= 5 and i > starts[4]]
        ends = [starts[2], starts[3], starts[4], min(later, default=len(self.cells))]
        return {part: [c for i, c in self.chunks if i < end] for part, end in zip(TP1_PARTS, ends)}

    def all_chunks(self) -> list[Chunk]:
        return [c for _, c in self.chunks]
