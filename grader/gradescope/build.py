"""The autograder zip, built from the instructor's tree.

It holds the instructor edition's wheel: grading at the instructor's secret seed needs the
oracle (the student edition holds the answers recorded at seed 0 only), and the checks
marked hidden must run. Only instructors see the zip; in the container the sandbox keeps
the solution from the student's code (run_autograder says where a protection is missing).
The seed is drawn with `secrets` at build time unless given, and kept in config.json.
"""

from __future__ import annotations

import json
import secrets
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

from grader import version
from grader.release import SOURCE, wheel

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
TREE = ("grader", "reference", "student_template", "pyproject.toml", "README.md")

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, on its Ubuntu image: a venv with the CPU build of
# PyTorch and the grader. GRADER_PYTHON, GRADER_VENV and GRADER_TORCH_INDEX_URL override
# the interpreter, the venv and PyTorch's package index (a test uses this machine's).
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${GRADER_PYTHON:-python3}"
VENV="${GRADER_VENV:-/autograder/venv}"
if ! "$PYTHON" -c "import ensurepip, venv" >/dev/null 2>&1; then
    apt-get update && apt-get install -y python3 python3-pip python3-venv
fi
"$PYTHON" -m venv --system-site-packages "$VENV"
"$VENV/bin/python" -m pip install --quiet torch==2.13.0 \\
    --index-url "${GRADER_TORCH_INDEX_URL:-https://download.pytorch.org/whl/cpu}"
"$VENV/bin/python" -m pip install --quiet ./WHEEL
"$VENV/bin/grade" --version
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this for each submission, as root: it grades /autograder/submission and
# writes /autograder/results/results.json (AUTOGRADER_ROOT and GRADER_VENV override both).
ROOT="${AUTOGRADER_ROOT:-/autograder}"
exec "${GRADER_VENV:-/autograder/venv}/bin/python" -m grader.gradescope.autograder --root "$ROOT"
"""


def _hidden() -> list[str]:
    from grader.catalogue import checks

    return sorted(c["id"] for c in checks() if c.get("hidden"))


def _wheel(out: Path) -> Path:
    """The instructor edition's wheel, built from a copy of the tree (the build writes into it)."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        for name in TREE:
            source = SOURCE.parent / name
            if source.is_dir():
                shutil.copytree(
                    source, tree / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
                )
            else:
                tree.mkdir(exist_ok=True)
                shutil.copy2(source, tree / name)
        return wheel(tree, out)


def build(
    target: Path,
    seed: int | None = None,
    hidden_visibility: str = "after_published",
    timeout: float = 60.0,
    tp: str | None = None,
) -> dict:
    """Write the autograder zip to `target`; return its config.json (the seed in it)."""
    config = {
        "seed": secrets.randbelow(2**31) if seed is None else seed,
        "timeout": timeout,
        "tp": tp,
        "hidden": _hidden(),
        "hidden_visibility": hidden_visibility,
        "grader": version(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        wheel = _wheel(Path(tmp))
        built = Path(tmp) / "autograder.zip"  # moved to `target` whole
        with zipfile.ZipFile(built, "w", zipfile.ZIP_DEFLATED) as z:
            scripts = {"setup.sh": SETUP.replace("WHEEL", wheel.name), "run_autograder": RUN}
            for name, text in scripts.items():
                info = zipfile.ZipInfo(name, time.localtime()[:6])
                info.external_attr = 0o100755 << 16  # executable once unzipped
                z.writestr(info, text)
            info = zipfile.ZipInfo("config.json", time.localtime()[:6])
            info.external_attr = 0o100600 << 16  # the seed: readable by root (run_autograder) only
            z.writestr(info, json.dumps(config, indent=2) + "\n")
            z.write(wheel, wheel.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(built, target)
    return config
