"""A toy lab of one part and one check: the engine grades it as it grades the RDFIA lab,
which shows that the engine names nothing of that lab (tests/test_lab.py)."""

from pathlib import Path

from grader.lab import Assignment, Lab, Part

HERE = Path(__file__).resolve().parent

LAB = Lab(
    name="toy",
    title="Toy practical",
    parts=(Part("double", {"double": ("x",)}, "a function that doubles a number"),),
    assignments=(Assignment("toy", ("double",), "the toy lab"),),
    rubric=HERE / "rubric",
    reference=HERE / "reference",
    oracle=str(HERE / "oracle.py"),
)
