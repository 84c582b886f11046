"""The class gradebook: one row a student, ready for a spreadsheet or an LMS import.

Columns: `id`, `total`, `max`, one column per part (its score), `status` (`ok` or
`failed-to-grade`), `error` and `seed` (the seed graded: `--seed N` regrades alike). A
submission that could not be graded has empty scores, not zeros, so that it cannot pass for
a graded one. Text cells (ids, errors: the student's own folder names and messages) are
made inert (`grader.render.inert.cell`).
"""

from __future__ import annotations

import csv
import io

from grader.render.inert import cell
from grader.results import Graded


def _num(x: float) -> str:
    return f"{x:g}"


def rows(graded: list[Graded], parts: tuple[str, ...], seed: int = 0) -> list[list[str]]:
    table = [["id", "total", "max", *parts, "status", "error", "seed"]]
    for g in graded:
        if g.report is None:
            table.append(
                [cell(g.id), "", "", *("" for _ in parts), g.status, cell(g.error), str(seed)]
            )
            continue
        r = g.report
        scores = (_num(r.part_score(p)[0]) for p in parts)
        table.append(
            [
                cell(g.id),
                _num(r.score),
                _num(r.max_score),
                *scores,
                g.status,
                cell(g.error),
                str(seed),
            ]
        )
    return table


def render(graded: list[Graded], parts: tuple[str, ...], seed: int = 0) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows(graded, parts, seed))
    return buffer.getvalue()
