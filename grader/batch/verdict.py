"""What a verdict depends on besides the submission's content: the key under which a rerun
of `grade batch` keeps a stored grade. The grader's version and edition, a digest of what
decides the marks (the rubric, the oracle and the reference, or in the student edition the
recorded expectations), the seed, the parts and the time limit of one call."""
from __future__ import annotations

import hashlib
from pathlib import Path

import grader
from grader import edition, version

# key field -> why a change of it regrades, as a rerun says it
REASONS = {"grader": "grader changed", "rubric": "rubric changed", "seed": "seed changed",
           "parts": "parts changed", "timeout": "time limit changed"}


def sources() -> list[Path]:
    """The files whose content decides the marks, in a fixed order."""
    from grader.expected import RECORDED
    from grader.labs import current
    lab = current()
    folders = [lab.rubric, Path(grader.__file__).parent / "oracle", lab.reference]
    files = [p for folder in folders if folder.is_dir() for p in sorted(folder.rglob("*.py"))]
    return files + ([RECORDED] if RECORDED.exists() else [])


def rubric_digest() -> str:
    h = hashlib.sha256()
    for path in sources():
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def key(job, rubric: str) -> dict:
    """The key of `job` (a `grader.batch.Job`) graded by the rubric of digest `rubric`."""
    return {"grader": f"{version()} {edition()}", "rubric": rubric, "seed": job.seed,
            "parts": list(job.parts or ()), "timeout": job.timeout}


def changed(stored: dict, current: dict) -> str | None:
    """Why a grade stored under `stored` is stale under `current`; None when it is not."""
    return next((why for field, why in REASONS.items() if stored.get(field) != current.get(field)),
                None)
