"""`grade init [FOLDER]`: a copy of the lab's student template (the modules and
notebooks/) to start from. A source checkout has it where the lab declares it; a wheel
ships it inside the package, as `grader/student_template` (package data)."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

from grader.labs import current

HERE = Path(__file__).parent
KEPT = ("*.py", "notebooks/*.ipynb")


def template() -> Path:
    for folder in (current().template, HERE / "student_template"):  # a checkout, a wheel
        if folder is not None and folder.is_dir():
            return folder
    raise FileNotFoundError("the student template is missing from this installation")


def main(args) -> int:
    target = Path(args.folder)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        print(f"grade: {target} exists and is not an empty folder; nothing was copied", file=sys.stderr)
        return 2
    try:
        source = template()
        files = sorted(p for pattern in KEPT for p in source.glob(pattern) if p.name != "__init__.py")
        for path in files:
            copy = target / path.relative_to(source)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, copy)
    except OSError as e:
        print(f"grade: cannot copy the template to {target}: {e.strerror or e}", file=sys.stderr)
        return 2
    print(f"{target}: {len(files)} files to fill in (modules, and the same parts as notebooks in notebooks/); "
          f"grade them with: grade check {target}")
    return 0
