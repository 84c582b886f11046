"""The results of grading one submission. It knows no output format: the renderers
in `grader.render` each read it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from grader.artifacts import Artifact

STATUSES = ("passed", "failed", "error", "skipped")
OK, FAILED = "ok", "failed-to-grade"  # a class row's status


@dataclass
class TestResult:
    __test__ = False  # not a pytest test class, despite its name
    id: str  # stable: "tp1_manual::backward::grad_Wy", the part first
    part: str
    name: str  # what the test checks, in the handout's words
    status: str  # one of STATUSES
    score: float
    max_score: float
    message: str = ""  # what was expected, what came back, where
    diagnosis: str | None = None  # the likely mistake, when one is recognised
    question: str | None = None  # the handout question, e.g. "1-ab Q16"
    same_mistake_as: str | None = (
        None  # an earlier check of the part whose diagnosis named this mistake: counted in both
    )
    output: str = ""  # what the student's code printed during the test
    seconds: float = 0.0  # how long the test took
    artifacts: list[Artifact] = field(default_factory=list)  # what the report's plots draw
    hidden: bool = False  # `@check(..., hidden=True)`: for Gradescope, after publication


@dataclass
class PartResult:
    part: str
    found: bool
    source: str = ""  # where it was found: "tp1.ipynb, Part 1" or "tp1_manual.py"
    skipped: list[dict] = field(default_factory=list)  # statements that failed at load time
    note: str = ""  # "not found; did you mean ...?"
    started: bool = True  # False when absent, or identical to the template ("not started")
    ignored: list[dict] = field(default_factory=list)  # other files holding it: {"source", "why"}
    notes: list[str] = field(default_factory=list)  # how it was read: "ConvNet is judged as ..."


@dataclass
class Report:
    submission: str
    seed: int
    parts: list[PartResult]
    tests: list[TestResult]
    grader_version: str = ""
    created: str = ""  # ISO date and time
    digest: str = ""  # hash of the submission's content
    seconds: float = 0.0
    flags: list[dict] = field(
        default_factory=list
    )  # the cheat report ({"where", "what"}): costs no points
    error: str = ""  # why the submission could not be graded (then no tests)

    @property
    def score(self) -> float:
        return sum((t.score for t in self.tests), 0.0)

    @property
    def max_score(self) -> float:
        return sum((t.max_score for t in self.tests), 0.0)

    def part_tests(self, part: str) -> list[TestResult]:
        return [t for t in self.tests if t.part == part]

    def part_score(self, part: str) -> tuple[float, float]:
        tests = self.part_tests(part)
        return sum((t.score for t in tests), 0.0), sum((t.max_score for t in tests), 0.0)

    @property
    def all_passed(self) -> bool:
        return all(t.status == "passed" for t in self.tests)


@dataclass
class Graded:
    """One student's row in a class: what the gradebook and the class summary read."""

    id: str
    entry: str  # the file or folder name in the class folder
    status: str = OK  # OK or FAILED
    error: str = ""
    report: Report | None = None
    digest: str = ""
    seconds: float = 0.0
    resumed: bool = False
    fingerprints: dict[str, str] = field(default_factory=dict)  # part -> hash of its normalised AST


def name_once(parts: list[PartResult]) -> list[PartResult]:
    """The parts of one notebook share its cells: a skipped statement is named once, at its
    first part."""
    noted: set = set()
    for part in parts:
        part.skipped = [s for s in part.skipped if (s["where"], s["error"]) not in noted]
        noted |= {(s["where"], s["error"]) for s in part.skipped}
    return parts


# -- the one serialisation of a Report: plain JSON values, every field ------------------------


def to_dict(report: Report) -> dict:
    """`report` as JSON values, every field kept; each artifact with its `kind`."""
    plain = dataclasses.asdict(report)
    for test, result in zip(plain["tests"], report.tests, strict=False):
        test["artifacts"] = [dict(dataclasses.asdict(a), kind=a.kind) for a in result.artifacts]
    return plain


def from_dict(data: dict) -> Report:
    """The `Report` of `to_dict` (or of a projection of it, such as the contract's JSON: the
    keys it lacks take their defaults, the keys it adds are left). KeyError, TypeError or
    ValueError on data that is not a report."""
    kinds = {kind.kind: kind for kind in Artifact.__subclasses__()}
    tests = [
        _build(
            TestResult,
            t,
            name=t.get("name", ""),
            score=float(t["score"]),
            max_score=float(t["max_score"]),
            message=t.get("message") or "",
            artifacts=[
                kinds[a["kind"]](**{k: v for k, v in a.items() if k != "kind"})
                for a in t.get("artifacts", ())
            ],
        )
        for t in data["tests"]
    ]
    parts = [_build(PartResult, p, found=bool(p["found"])) for p in data["parts"]]
    return _build(
        Report,
        data,
        submission=data.get("submission", ""),
        seed=int(data.get("seed", 0)),
        parts=parts,
        tests=tests,
        flags=[f for f in data.get("flags", ()) if isinstance(f, dict)],
    )


def _build(kind, data: dict, **values):
    """A `kind` dataclass from the keys of `data` that are its fields, then `values`."""
    if not isinstance(data, dict):
        raise TypeError(f"not a JSON object: {type(data).__name__}")
    names = {f.name for f in dataclasses.fields(kind)}
    return kind(**{**{k: v for k, v in data.items() if k in names}, **values})
