"""The student template's notebooks filled in from the reference, as a student who got
everything right would hand them in: in each part's section, its first cell that raises
NotImplementedError (or answers None, "# TODO") holds the reference module of that part, its
other such cells are empty."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import REFERENCE

from grader.labs.rdfia import LAB


def filled(notebook: Path, parts: tuple[str, ...] | None = None) -> str:
    """The notebook's JSON with the stub cells of `parts` (by default all) replaced."""
    data = json.loads(notebook.read_text())
    part = notebook.stem if notebook.stem in LAB.part_names else None
    done: set[str] = set()
    for cell in data["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and text.strip():
            number = LAB.split.number(text.strip().splitlines()[0])
            part = (
                LAB.split.parts[number - 1] if number and number <= len(LAB.split.parts) else part
            )
        elif (
            ("raise NotImplementedError" in text or "# TODO" in text)
            and part
            and (parts is None or part in parts)
        ):
            cell["source"] = "" if part in done else (REFERENCE / f"{part}.py").read_text()
            done.add(part)
    return json.dumps(data)


def with_cell(text: str, code: str) -> str:
    """The notebook's JSON with a code cell added at the end."""
    data = json.loads(text)
    data["cells"].append(
        {
            "cell_type": "code",
            "id": "grader-check",
            "metadata": {},
            "execution_count": None,
            "outputs": [],
            "source": code,
        }
    )
    return json.dumps(data)
