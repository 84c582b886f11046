"""The renderers, as a registry: each format is a module of this package with one function,
`render(...) -> str`. `check` and `batch` loop over the registry instead of naming formats.

- `REPORT`: the files of one submission, `render(report)`; `on_error` ones are still written,
  with score 0 and the reason, when the submission could not be graded.
- `CLASS`: the files of a class, `render(rows, parts, seed)` (rows: `grader.results.Graded`).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path


@dataclass(frozen=True)
class Format:
    name: str                 # the module in grader.render, and the option of `grade check`
    help: str
    on_error: bool = False    # written too when the submission could not be graded
    encoding: str = "utf-8"
    needs: tuple[str, ...] = ()  # the slow imports of its first render, for `preload`

    def render(self, *data, **options) -> str:
        return import_module(f"grader.render.{self.name}").render(*data, **options)

    def write(self, path: Path, *data, **options) -> None:
        """Render and write; an OSError (a folder, a read-only place) is the caller's to report."""
        text = self.render(*data, **options)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding=self.encoding, newline="")


def preload(formats) -> threading.Thread:
    """Import what `formats` need in a thread, while the submission is graded: the grading
    process mostly waits on its worker then, and matplotlib alone takes a second. Join it
    before rendering, so that no import runs in two threads at once."""
    def load():
        for module in dict.fromkeys(m for f in formats for m in f.needs):
            try:
                import_module(module)
            except ImportError:  # the renderer says so, when it runs
                pass
    thread = threading.Thread(target=load, name="preload", daemon=True)
    thread.start()
    return thread


REPORT = {f.name: f for f in (
    Format("html", "where to write the HTML report",
           needs=("jinja2", "grader.render.html", "matplotlib.figure", "matplotlib.backends.backend_agg",
                  "matplotlib.backends.backend_svg")),
    Format("json", "write the results as JSON (the contract's format)", on_error=True),
    Format("junit", "write JUnit XML, one testcase per check (for CI)", on_error=True),
    Format("gradescope", "write Gradescope's results.json", on_error=True),
)}
# Spreadsheets (Excel) read a CSV as UTF-8 only when it starts with a byte-order mark.
CLASS = {"grades.csv": Format("csv", "one row a student", encoding="utf-8-sig"),
         "summary.html": Format("summary", "what the class got wrong")}
