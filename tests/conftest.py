"""Shared helpers for the grader's own tests: build a submission, grade some parts."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from grader.labs.rdfia import LAB
from grader.runner import declared_checks, grade
from grader.sandbox import Limits
from grader.submission import open_submission
from grader.worker.loader import use_course

ROOT = Path(__file__).resolve().parents[1]
# The toy lab's rubric runs through the grader (test_lab.py), not as one of these tests.
collect_ignore = ["toy_lab/rubric"]
REFERENCE = ROOT / "reference"
# The keys of a test in the contract's JSON (docs/CONTRACT.md), as the contract writes them.
TEST_KEYS = set("id part name status score max_score message diagnosis same_mistake_as".split())
# Its top-level keys (flags: the cheat report).
REPORT_KEYS = set("submission score max_score seed parts tests flags".split())


def reference_source(part: str) -> str:
    return (REFERENCE / f"{part}.py").read_text()


@functools.cache
def full_marks(*parts: str, student: bool = False) -> float:
    """The points the rubric declares for `parts` (all when none), in the student edition
    without its hidden checks: what the reference scores. Tests ask, never pin the totals."""
    return sum(
        c["points"]
        for c in _declared()
        if (not parts or c["part"] in parts) and not (student and c["hidden"])
    )


@functools.cache
def _declared() -> list[dict]:
    return declared_checks(LAB)


def mutate(part: str, old: str, new: str) -> str:
    """The reference of `part` with one exact snippet replaced: a known mistake."""
    source = reference_source(part)
    assert source.count(old) == 1, f"{old!r} must occur exactly once in reference/{part}.py"
    return source.replace(old, new)


@pytest.fixture(autouse=True, scope="session")
def course_helper_names():
    """Tests that call the loader in this process find the course helpers under the lab's
    names, as the worker does (the trusted side sends them with each load)."""
    use_course(LAB.course_modules())


@pytest.fixture(autouse=True, scope="session")
def instructor_state(tmp_path_factory):
    """`grade check` without --seed grades the instructor's seed, kept per user: here, in a
    folder of the test session (never the home of whoever runs the tests), fixed so that
    every session grades alike."""
    import os

    from grader.seed import FILE

    config = tmp_path_factory.mktemp("config")
    (config / "rdfia-grader").mkdir()
    (config / "rdfia-grader" / FILE).write_text("424242\n")
    os.environ["XDG_CONFIG_HOME"] = str(config)


@pytest.fixture(scope="session", params=["fresh", "zygote"])
def zygote(request):
    """Workers started both ways: a fresh interpreter (`grade check` where no zygote runs),
    and forked by a zygote on a channel of its own, as each grading process of `grade batch`
    has one; None for the first."""
    if request.param == "fresh":
        yield None
        return
    from grader.sandbox.zygote import Connection, Zygote

    forks = Zygote(Limits(), LAB.worker_imports)
    channel = Connection(forks.connect())
    yield channel
    channel.close()
    forks.close()


@pytest.fixture
def make_submission(tmp_path):
    """Write `{file name: text}` into a fresh folder and return its path."""

    def make(files: dict[str, str], name: str = "submission") -> Path:
        folder = tmp_path / name
        folder.mkdir()
        for rel, text in files.items():
            (folder / rel).write_text(text)
        return folder

    return make


@pytest.fixture
def grade_path():
    """Grade a path (only `parts`, to keep tests short); returns the Report."""

    def run(path, parts: tuple[str, ...], seed: int = 0, call_seconds: float = 60.0):
        return grade(
            open_submission(path), seed=seed, limits=Limits(call_seconds=call_seconds), parts=parts
        )

    return run


def by_id(report) -> dict:
    return {t.id: t for t in report.tests}
