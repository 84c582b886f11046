"""What a verdict depends on besides the submission's content: the key under which a rerun
of `grade batch` keeps a stored grade. The grader (its version, edition and a digest of its
code), a digest of what decides the marks (the rubric, the oracle and the reference, or in
the student edition the recorded expectations), the seed, the parts and the time limit of
one call."""

from __future__ import annotations

import hashlib
from pathlib import Path

import grader
from grader import edition, version

# key field -> why a change of it regrades, as a rerun says it
REASONS = {
    "grader": "grader changed",
    "rubric": "rubric changed",
    "seed": "seed changed",
    "parts": "parts changed",
    "timeout": "time limit changed",
}
PACKAGE = Path(grader.__file__).parent


def _files(folders: list[Path], patterns: tuple[str, ...] = ("*.py",)) -> list[Path]:
    return [
        p
        for folder in folders
        if folder.is_dir()
        for p in sorted(q for pattern in patterns for q in folder.rglob(pattern))
    ]


def sources() -> list[Path]:
    """The files whose content decides the marks, in a fixed order."""
    from grader.expected import RECORDED
    from grader.labs import current, instructor_only

    lab = current()
    files = _files([lab.rubric, *instructor_only(lab)])  # its oracle and reference
    return files + ([RECORDED] if RECORDED.exists() else [])


def engine() -> list[Path]:
    """The grader's own code and templates, but for what `sources` holds."""
    marks = {p.resolve() for p in sources()}
    return [p for p in _files([PACKAGE], ("*.py", "*.j2")) if p.resolve() not in marks]


def _digest(files: list[Path]) -> str:
    h = hashlib.sha256()
    for path in files:
        h.update(
            path.name.encode() + b"\0" + path.read_bytes() + b"\0"
        )  # not where it is installed
    return h.hexdigest()[:16]


def current() -> dict:
    """The grader's and the rubric's part of the key, computed once a run."""
    return {"grader": f"{version()} {edition()} {_digest(engine())}", "rubric": _digest(sources())}


def key(job, marks: dict) -> dict:
    """The key of `job` (a `grader.batch.Job`) graded by the grader and rubric of `marks`."""
    return {**marks, "seed": job.seed, "parts": list(job.parts or ()), "timeout": job.timeout}


def changed(stored: dict, now: dict) -> str | None:
    """Why a grade stored under `stored` is stale under `now`; None when it is not."""
    return next(
        (why for field, why in REASONS.items() if stored.get(field) != now.get(field)), None
    )
