"""`grade init [FOLDER]`: a copy of the student template (the modules and notebooks/) to
start from. The template ships inside the package (`grader.student_template`, package
data); a source checkout reads `student_template/` beside `grader/`."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).parent
KEPT = ("*.py", "notebooks/*.ipynb")


def template() -> Path:
    for folder in (HERE / "student_template", HERE.parent / "student_template"):  # a wheel, a checkout
        if folder.is_dir():
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
