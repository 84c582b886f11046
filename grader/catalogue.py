"""`grade list`: every check of the lab's rubric with its points, handout question and
assignment, read from the checks' markers by pytest's own collection. It prints no
check's description: nothing of it can be an expected value or formula."""
from __future__ import annotations

import sys

import pytest

from grader.labs import current


class Collector:
    """A pytest plugin that keeps each collected check's marker, and runs nothing."""

    def __init__(self):
        self.checks: list[dict] = []

    def pytest_collection_modifyitems(self, items):
        marks = (item.get_closest_marker("grader_check") for item in items)
        self.checks = [dict(mark.kwargs) for mark in marks if mark is not None]
        items[:] = []


def part_of(check: dict) -> str:
    return check["id"].split("::")[0]


def checks(lab=None) -> list[dict]:
    """The marker ({"id", "points", "question", ...}) of every check, in the order of the parts."""
    from grader.runner import PYTEST_ARGS
    lab = lab or current()
    collector = Collector()
    pytest.main([str(lab.rubric), "--rootdir", str(lab.rubric), *PYTEST_ARGS], plugins=[collector])
    order = {name: k for k, name in enumerate(lab.part_names)}
    return sorted((c for c in collector.checks if part_of(c) in order), key=lambda c: order[part_of(c)])


def main(args) -> int:
    lab = current()
    rows = [(c["id"], float(c["points"]), c.get("question") or "-", lab.assignment_of(part_of(c)).name)
            for c in checks(lab)]
    if not rows:
        print(f"grade: the rubric of the lab {lab.name} has no checks", file=sys.stderr)
        return 2
    width = max(len(r[0]) for r in rows)
    print(f"{'check':<{width}}  points  question  assignment")
    for cid, points, question, tp in rows:
        print(f"{cid:<{width}}  {points:>6g}  {question:<8}  {tp}")
    print(f"\n{len(rows)} checks, {sum(r[1] for r in rows):g} points")
    return 0
