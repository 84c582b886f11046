"""`grade init [FOLDER] [--layout notebooks|modules]`: a copy of the lab's student template
to start from, in one layout, so that each part is in one file (no note about which copy
is graded): the notebooks (a combined notebook in place of the per-part notebooks it
covers, as the course hands them out), or the modules. A source checkout has the template
where the lab declares it; a wheel ships it inside the package, as `grader/student_template`."""

from __future__ import annotations

from pathlib import Path

from grader.lab import Lab
from grader.labs import current
from grader.submission.template import template_folder

LAYOUTS = ("notebooks", "modules")


def template() -> Path:
    folder = template_folder(current())
    if folder is None:
        raise FileNotFoundError("the student template is missing from this installation")
    return folder


def layout_files(source: Path, layout: str, lab: Lab) -> list[Path]:
    """The template's files of one layout."""
    if layout == "modules":
        return sorted(p for p in source.glob("*.py") if p.name != "__init__.py")
    notebooks = sorted((source / "notebooks").glob("*.ipynb"))
    combined = lab.split is not None and any(nb.stem not in lab.part_names for nb in notebooks)
    covered = set(lab.split.parts) if combined else set()
    return [nb for nb in notebooks if nb.stem not in covered]
