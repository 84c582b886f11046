"""The toy lab's rubric: `double` against the toy lab's own oracle."""

from grader.checks import check, expect_number
from grader.expected import ask


@check("double::values", points=2, question="toy Q1")
def test_double(student, seed):
    """double(x) returns twice x."""
    for x in (seed + 1.5, -3.0):
        expect_number(student.call("double", x), ask("double", x), f"double({x:g})")
