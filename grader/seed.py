"""The seed an instructor grades by default: drawn once, kept on the instructor's side.

The student edition records the oracle's answers at the public seed (0), so the instructor
never grades it by default: `grade batch` keeps its seed in the output folder (every later
run on that folder reuses it, so a rerun keeps its verdicts), `grade check` in a per-user
state file. `--seed N` overrides both, and every result names the seed it was graded at, so
that a regrade with `--seed N` gives the same verdicts. Another front end (a Gradescope
autograder) keeps its own folder and calls `instructor_seed(folder)`.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from grader.expected import PUBLIC_SEED

FILE = "grading-seed"
# Seeds are multiplied and offset by the rubric's inputs (`seed * 1000 + salt`); below 2**31
# they stay far within torch's and numpy's seed ranges, and 2**31 values are plenty to guess.
LIMIT = 2**31


class SeedError(OSError):
    """The seed file cannot be read or written: said in one line, nothing graded."""


def draw() -> int:
    """A fresh secret seed, never the public one."""
    return 1 + secrets.randbelow(LIMIT - 1)


def instructor_seed(state_dir: Path | str) -> int:
    """The seed kept in `state_dir` (created with one drawn by `draw` the first time)."""
    path = Path(state_dir) / FILE
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    seed = draw()
    try:  # written aside, then linked in: a run that reads it never sees it half-written
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{FILE}.")
        with os.fdopen(fd, "w") as f:
            f.write(f"{seed}\n")
        try:
            os.link(temp, path)
        finally:
            os.unlink(temp)
    except FileExistsError:  # another run drew it first: that one it is
        return _read(path)
    except OSError as e:
        raise SeedError(
            f"cannot keep the grading seed in {path}: {e.strerror or e} (give --seed N)"
        ) from None
    return seed


def _read(path: Path) -> int:
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        raise
    except OSError as e:
        raise SeedError(
            f"cannot read the grading seed in {path}: {e.strerror or e} (give --seed N)"
        ) from None
    if not text.isdigit() or not 0 < int(text) < 2**63:
        raise SeedError(
            f"{path} does not hold a seed (a whole number above 0): remove it to "
            "draw a new one, or give --seed N"
        )
    return int(text)


def user_state_dir() -> Path:
    """Where `grade check` keeps the instructor's seed: $XDG_CONFIG_HOME/rdfia-grader, else
    ~/.config/rdfia-grader."""
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "rdfia-grader"


def default_seed(edition: str, state_dir: Path | str) -> int:
    """The seed graded without `--seed`: the public one in the student edition, else the
    instructor's, kept in `state_dir`."""
    return PUBLIC_SEED if edition == "student" else instructor_seed(state_dir)
