"""rdfia-grader: an autograder for the Sorbonne RDFIA practicals TP 1-ab and TP 1-cd."""
from __future__ import annotations


def version() -> str:
    from importlib.metadata import PackageNotFoundError, version as installed
    try:
        return installed("rdfia-grader")
    except PackageNotFoundError:
        return "unknown"


def edition() -> str:
    """"instructor", or "student" in a build that `grade release` marks as the student edition."""
    from pathlib import Path
    return "student" if (Path(__file__).parent / "STUDENT_EDITION").exists() else "instructor"
