"""`grade list`: the checks, their points, handout question and assignment (`grader.catalogue`)."""

from __future__ import annotations

import sys

from grader.catalogue import checks
from grader.labs import current


def main(args) -> int:
    lab = current()
    rows = [
        (c["id"], float(c["points"]), c.get("question") or "-", lab.assignment_of(c["part"]).name)
        for c in checks(lab)
    ]
    if not rows:
        print(f"grade: the rubric of the lab {lab.name} has no checks", file=sys.stderr)
        return 2
    width = max(len(r[0]) for r in rows)
    print(f"{'check':<{width}}  points  question  assignment")
    for cid, points, question, tp in rows:
        print(f"{cid:<{width}}  {points:>6g}  {question:<8}  {tp}")
    print(f"\n{len(rows)} checks, {sum(r[1] for r in rows):g} points")
    return 0
