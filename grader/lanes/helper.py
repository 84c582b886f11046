"""A helper: a grading process that the zygote forks to grade some lanes
(`python -m grader.lanes FD`, `grader.lanes.__main__`); its answer comes back by the one
serialisation of a Report (`grader.results.from_dict`)."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

from grader.results import Report, from_dict
from grader.sandbox.kernel import kill_tree


class LaneProcess:
    """A grading process that the zygote forks to grade some lanes."""

    def __init__(self, request: dict):
        self.folder = tempfile.TemporaryDirectory(prefix="grader-lanes-")
        self.path = Path(self.folder.name)
        (self.path / "request.json").write_text(json.dumps(request))
        self.proc = None  # once forked

    def spawn(self, zygote, files: contextlib.ExitStack) -> tuple[dict, list[int]]:
        """Its spawn request, and its descriptors (closed with `files`, once it is forked)."""
        channel = files.enter_context(zygote.connect())
        stdio = [
            files.enter_context(open(self.path / name, mode))
            for name, mode in (("request.json", "rb"), ("answer.json", "wb"), ("log.txt", "wb"))
        ]
        return (
            {"module": "grader.lanes", "env": dict(os.environ), "cwd": "/"},
            [*(f.fileno() for f in stdio), channel.fileno()],
        )

    def answer(self) -> tuple[Report, list[str]] | None:
        """Its report and its worker's weaknesses once it ended, or None when it failed."""
        if self.proc is None or self.proc.wait() != 0:
            return None
        try:
            answer = json.loads((self.path / "answer.json").read_text())
            return from_dict(answer["report"]), [str(w) for w in answer["weaknesses"]]
        except (ValueError, KeyError, TypeError):
            return None

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            kill_tree(self.proc.pid)
            self.proc.wait()
        self.folder.cleanup()
