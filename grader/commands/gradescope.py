"""`grade gradescope OUT`: a Gradescope autograder zip (`grader.gradescope.build`), instructor
only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from grader import edition
from grader.gradescope.build import SOURCE, build


def main(args) -> int:
    if edition() != "instructor" or not (SOURCE.parent / "pyproject.toml").exists():
        print(
            "grade gradescope: build it from the instructor's source tree "
            "(the instructor edition, installed with pip install -e)",
            file=sys.stderr,
        )
        return 2
    target = Path(args.out)
    try:
        config = build(target, args.seed, args.hidden_visibility, args.timeout, args.tp)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"grade gradescope: the autograder could not be built ({e})", file=sys.stderr)
        return 2
    print(
        f"Gradescope autograder: {target} (seed {config['seed']}, kept in its config.json; "
        f"{len(config['hidden'])} hidden checks shown {config['hidden_visibility']}).\n"
        "Upload it in the assignment's Configure Autograder page (Ubuntu base image)."
    )
    return 0
