"""`grade list`: every check of the lab's rubric with its points, handout question and
assignment, as the checks declare them (collected by pytest, never run). It prints no
check's description: nothing of it can be an expected value or formula."""
from __future__ import annotations

import sys

from grader.labs import current


def checks(lab=None) -> list[dict]:
    """The declaration ({"id", "part", "points", "question"}) of every check, in the order of the parts."""
    from grader.runner import declared_checks
    lab = lab or current()
    order = {name: k for k, name in enumerate(lab.part_names)}
    return sorted(declared_checks(lab), key=lambda c: order[c["part"]])


def main(args) -> int:
    lab = current()
    rows = [(c["id"], float(c["points"]), c.get("question") or "-", lab.assignment_of(c["part"]).name)
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
