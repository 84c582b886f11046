"""`grade list`: every check of the rubric with its points, handout question and
assignment, read from the checks' markers by pytest's own collection. It prints no
check's description: nothing of it can be an expected value or formula."""
from __future__ import annotations

import sys

import pytest

from grader.results import PARTS


def assignment(part: str) -> str:
    """The assignment a part belongs to (the contract's "Assignments")."""
    return "1-ab" if part.startswith("tp1") else "1-cd"


class Collector:
    """A pytest plugin that keeps each collected check's marker, and runs nothing."""

    def __init__(self):
        self.checks: list[dict] = []

    def pytest_collection_modifyitems(self, items):
        marks = (item.get_closest_marker("grader_check") for item in items)
        self.checks = [dict(mark.kwargs) for mark in marks if mark is not None]
        items[:] = []


def checks() -> list[dict]:
    """The marker ({"id", "points", "question", ...}) of every check, in the order of the parts."""
    from grader.runner import PYTEST_ARGS, RUBRIC
    collector = Collector()
    pytest.main([str(RUBRIC), *PYTEST_ARGS], plugins=[collector])
    part = lambda c: c["id"].split("::")[0]  # noqa: E731
    return sorted(collector.checks, key=lambda c: PARTS.index(part(c)) if part(c) in PARTS else len(PARTS))


def main(args) -> int:
    rows = [(c["id"], float(c["points"]), c.get("question") or "-", assignment(c["id"].split("::")[0]))
            for c in checks()]
    if not rows:
        print("grade: the rubric has no checks", file=sys.stderr)
        return 2
    width = max(len(r[0]) for r in rows)
    print(f"{'check':<{width}}  points  question  assignment")
    for cid, points, question, tp in rows:
        print(f"{cid:<{width}}  {points:>6g}  {question:<8}  {tp}")
    print(f"\n{len(rows)} checks, {sum(r[1] for r in rows):g} points")
    return 0
