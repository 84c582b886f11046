"""The toy lab's rubric: `double` against the toy reference."""
import runpy
from pathlib import Path

from grader.checks import check, expect_number

REFERENCE = runpy.run_path(str(Path(__file__).parents[1] / "reference" / "double.py"))


@check("double::values", points=2, question="toy Q1")
def test_double(student, seed):
    """double(x) returns twice x."""
    for x in (seed + 1.5, -3.0):
        expect_number(student.call("double", x), REFERENCE["double"](x), f"double({x:g})")
