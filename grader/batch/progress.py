"""What `grade batch` prints: a progress bar with ETA on a terminal, and one line per
student in any case."""

from __future__ import annotations

import sys

from grader.render.inert import terminal
from grader.results import FAILED, OK, Graded


class Log:
    """A progress bar with ETA on a terminal, and one line per student in any case."""

    def __init__(self, total: int, stream=None):
        self.stream = stream or sys.stdout
        self.progress = None
        if total and self.stream.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.progress = Progress(
                TextColumn("grading"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=Console(file=self.stream, highlight=False),
            )
            self.task = self.progress.add_task("grading", total=total)
            self.progress.start()

    def line(self, text: str, advance: bool = False) -> None:
        text = terminal(text)  # student ids and errors: no control character reaches the terminal
        if self.progress:
            from rich.markup import escape

            self.progress.console.print(escape(text))
            if advance:
                self.progress.advance(self.task)
        else:
            print(text, file=self.stream, flush=True)

    def close(self) -> None:
        if self.progress:
            self.progress.stop()


def row_line(row: Graded) -> str:
    if row.status != OK:
        return f"{row.id}: {FAILED}: {row.error}"
    return f"{row.id}: {row.report.score:g} / {row.report.max_score:g}  ({row.seconds:.1f} s)"
