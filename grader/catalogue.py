"""`grade list`: every check of the lab's rubric with its points, handout question and
assignment, as the checks declare them (collected by pytest, never run). It prints no
check's description: nothing of it can be an expected value or formula."""

from __future__ import annotations

from grader.labs import current


def checks(lab=None) -> list[dict]:
    """The declaration ({"id", "part", "points", "question"}) of every check, in the order of the parts."""
    from grader.runner import declared_checks

    lab = lab or current()
    order = {name: k for k, name in enumerate(lab.part_names)}
    return sorted(declared_checks(lab), key=lambda c: order[c["part"]])
