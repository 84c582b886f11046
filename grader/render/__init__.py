"""The renderers, as a registry: each format is a module of this package with one function,
`render(...) -> str`. `check` and `batch` loop over the registry instead of naming formats.

- `REPORT`: the files of one submission, `render(report)`; `on_error` ones are still written,
  with score 0 and the reason, when the submission could not be graded.
- `CLASS`: the files of a class, `render(rows, parts, seed)` (rows: `grader.results.Graded`).

A module may also have a class `Draft`, fed each test result as it comes while the
submission is graded (`Ahead` below); its `render(report, ahead=...)` then uses that work.
"""

from __future__ import annotations

import functools
import queue
import threading
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path


@dataclass(frozen=True)
class Format:
    name: str  # the module in grader.render, and the option of `grade check`
    help: str
    on_error: bool = False  # written too when the submission could not be graded
    encoding: str = "utf-8"
    needs: tuple[str, ...] = ()  # the slow imports of its first render, done `Ahead`

    def render(self, *data, **options) -> str:
        return import_module(f"grader.render.{self.name}").render(*data, **options)

    def write(self, path: Path, *data, **options) -> None:
        """Render and write; an OSError (a folder, a read-only place) is the caller's to report."""
        text = self.render(*data, **options)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding=self.encoding, newline="")


class Ahead(threading.Thread):
    """The renderers' work done while the submission is graded, in this thread: the grading
    process mostly waits on its worker then. It imports what `formats` need (matplotlib
    alone takes a second), then gives each test result, as `add` receives it, to the
    `Draft` of each format that has one (the HTML report's plots, another second).
    `finish()` returns {format name: its Draft}; render only after it, so that no import
    runs in two threads at once."""

    def __init__(self, formats):
        super().__init__(name="render-ahead", daemon=True)
        self.formats = list(formats)
        self.results: queue.SimpleQueue = queue.SimpleQueue()
        self.done: dict[str, object] = {}
        self.start()

    def add(self, result) -> None:
        self.results.put(result)

    def run(self) -> None:
        for module in dict.fromkeys(m for f in self.formats for m in f.needs):
            try:
                import_module(module)
            except ImportError:  # the renderer says so, when it runs
                pass
        drafts = {}
        for f in self.formats:
            try:
                drafts[f.name] = import_module(f"grader.render.{f.name}").Draft()
            except (ImportError, AttributeError):
                pass
        while (result := self.results.get()) is not None:
            for name, draft in list(drafts.items()):
                try:
                    draft.add(result)
                except Exception:  # noqa: BLE001 - that format renders from the report instead
                    del drafts[name]
        self.done = drafts

    def finish(self) -> dict[str, object]:
        self.results.put(None)
        self.join()
        return self.done


@functools.cache
def templates():
    """The Jinja environment of the templates shipped beside the renderers: made once, so
    that each template is compiled once per process (a batch renders hundreds of reports)."""
    from jinja2 import Environment, PackageLoader

    return Environment(
        loader=PackageLoader("grader.render", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


REPORT = {
    f.name: f
    for f in (
        Format(
            "html",
            "where to write the HTML report",
            needs=(
                "jinja2",
                "grader.render.html",
                "matplotlib.figure",
                "matplotlib.backends.backend_agg",
                "matplotlib.backends.backend_svg",
            ),
        ),
        Format("json", "write the results as JSON (the contract's format)", on_error=True),
        Format("junit", "write JUnit XML, one testcase per check (for CI)", on_error=True),
        Format("gradescope", "write Gradescope's results.json", on_error=True),
    )
}
# Spreadsheets (Excel) read a CSV as UTF-8 only when it starts with a byte-order mark.
CLASS = {
    "grades.csv": Format("csv", "one row a student", encoding="utf-8-sig"),
    "summary.html": Format("summary", "what the class got wrong"),
}
