"""rdfia-grader: an autograder for the Sorbonne RDFIA practicals TP 1-ab and TP 1-cd."""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version as _installed
from pathlib import Path


def version() -> str:
    try:
        return _installed("rdfia-grader")
    except PackageNotFoundError:
        return "unknown"


def edition() -> str:
    """"instructor", or "student" in a build that `grade release` marks as the student edition."""
    return "student" if (Path(__file__).parent / "STUDENT_EDITION").exists() else "instructor"
