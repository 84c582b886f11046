"""`grade init FOLDER`: a copy of the student template to start from (`grader.starter`)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from grader.labs import current
from grader.starter import LAYOUTS, layout_files, template


def main(args) -> int:
    target, layout = Path(args.folder), getattr(args, "layout", LAYOUTS[0])
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        print(
            f"grade: {target} exists and is not an empty folder; nothing was copied",
            file=sys.stderr,
        )
        return 2
    try:
        files = layout_files(template(), layout, current())
        target.mkdir(parents=True, exist_ok=True)
        for path in files:
            shutil.copyfile(path, target / path.name)
    except OSError as e:
        print(f"grade: cannot copy the template to {target}: {e.strerror or e}", file=sys.stderr)
        return 2
    print(
        f"{target}: {len(files)} {layout} to fill in ({', '.join(p.name for p in files)}); "
        f"grade them with: grade check {target}"
    )
    return 0
