"""`grade release OUT`: the student edition's wheel (`grader.release.build`), instructor only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from grader import edition
from grader.release import build


def main(args) -> int:
    if edition() != "instructor":
        print(
            "grade release: this is the student edition, which cannot build a release; your "
            "instructors build the student edition from the instructor edition (the course's "
            "grader repository)",
            file=sys.stderr,
        )
        return 2
    try:
        wheel = build(Path(args.out))
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"grade release: the wheel could not be built ({e})", file=sys.stderr)
        return 2
    print(
        f"Student edition: {wheel}\nPublish it where the students' CI installs it from "
        "(GRADER_WHEEL in examples/student-repository-workflow.yml)."
    )
    return 0
