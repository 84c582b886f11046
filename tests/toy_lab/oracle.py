"""The toy lab's oracle (`Lab.oracle`): the expected values, computed from the toy reference,
asked by the rubric through `grader.expected.ask` as RDFIA's are."""

import runpy
from pathlib import Path

REFERENCE = runpy.run_path(str(Path(__file__).parent / "reference" / "double.py"))


def answer(question: str, *args):
    if question != "double":
        raise KeyError(question)
    return REFERENCE["double"](*args)


compute = answer


def recorded(seed: int) -> dict:
    """The student edition's answers: none depend on a seed of the student's own."""
    return {}
