"""A submission's assignments, each graded in a lane of its own: a worker of its own
(`Sandboxes`), and in `grade check` on Linux, a grading process of its own beside the others.

`grade check` starts a zygote (`grader.sandbox.zygote`), which forks the grading processes,
its helpers (`python -m grader.lanes FD`): clean as `grade batch`'s, since the zygote never
ran student code, and with torch imported before the fork. Each grades a group of lanes and
writes its `Report` back as JSON; `grade check` then imports no torch, and renders (with one
group, on one core or with one lane that has code to grade, it grades the group itself). The
verdicts are those of grading the lanes one after the other in one process, as `grade batch`
does: each lane has a worker of its own either way. A helper that cannot start, fails or
dies costs time only: its lanes are graded in `grade check`'s process instead.

A helper reads its request on stdin, one JSON object: the submission's path (it opens it
again and refuses it unless the digest is the same), the seed, the parts, the limits and
the workers' imports. FD is its channel to the zygote, which forks its workers. It writes
`{"report", "weaknesses"}` on stdout, a file; its stderr keeps its last words.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from grader import static
from grader.artifacts import Artifact
from grader.results import PartResult, Report, TestResult
from grader.sandbox import Limits, Sandbox
from grader.sandbox.kernel import kill_tree

ARTIFACTS = {kind.kind: kind for kind in Artifact.__subclasses__()}


class Sandboxes:
    """A sandbox per assignment, made by `make()` when the assignment's first part loads.
    What one assignment's code does to its worker (torch's defaults, a patched module) never
    reaches another's checks, so an assignment's verdicts are the same whether it is graded
    alone, after another, or beside it in another process."""

    def __init__(self, make: Callable[[], Sandbox]):
        self.make = make
        self.open: dict[str, Sandbox] = {}

    def of(self, assignment: str) -> Sandbox:
        if assignment not in self.open:
            self.open[assignment] = self.make()
        return self.open[assignment]

    def close(self) -> None:
        for sandbox in self.open.values():
            sandbox.close()
        self.open.clear()


class Lanes:
    """The grading of `parts` of `submission` (read from `path`), in groups of consecutive
    lanes. `zygote` forks the workers of `grade batch`'s grading process, which grades every
    lane itself, one after the other. Without it, on Linux, the lanes get a zygote of their
    own, and a new group starts at each lane with code to grade while cores remain (a lane of
    templates alone is quick). Two groups or more: the zygote forks a helper for each, and this
    process imports no torch; one: this process grades it, importing torch as the zygote does."""

    def __init__(self, path, submission, parts: tuple[str, ...], seed: int, limits: Limits, zygote=None,
                 imports: tuple[str, ...] = ()):
        self.submission, self.seed, self.limits = submission, seed, limits
        self.weaknesses: list[str] = []  # what the platform refused to the first worker, once known
        lanes = submission.lab.by_assignment(parts)
        self.own = zygote is None and sys.platform.startswith("linux")  # fork, SOCK_SEQPACKET
        if self.own:
            from grader.sandbox.zygote import Zygote
            zygote = Zygote(limits, imports)
        self.zygote = zygote
        self.sandboxes = Sandboxes(lambda: Sandbox(limits, submission.files, zygote, imports))
        self.groups = [parts]
        if self.own:
            busy = [i for i, (_, lane) in enumerate(lanes) if i and static.implemented(submission, lane)]
            cuts = [0, *busy[:(os.cpu_count() or 1) - 1], len(lanes)]
            self.groups = [tuple(p for _, lane in lanes[a:b] for p in lane) for a, b in zip(cuts, cuts[1:], strict=False)]
        self.beside = len(self.groups) > 1  # helpers grade the groups
        if zygote is None:
            for name, _ in lanes:  # fresh workers import torch while this process starts
                self.sandboxes.of(name).start()
        self.helpers: list[Helper] = []
        if self.beside:
            # Forked once the zygote has imported torch (the spawn waits for it): meanwhile this
            # process goes on (the HTML report's imports).
            request = {"path": str(Path(path).resolve()), "digest": submission.digest, "seed": seed,
                       "limits": dataclasses.asdict(limits), "imports": list(imports)}
            self.starting = threading.Thread(target=self._start_helpers, args=(request,), daemon=True)
            self.starting.start()
        else:  # torch, pytest and the rubric, now: while the workers start, and before other threads
            import grader.runner  # noqa: F401

    def _start_helpers(self, request: dict) -> None:
        helpers = [Helper(dict(request, parts=group)) for group in self.groups]
        with contextlib.ExitStack() as files:
            try:
                forked = self.zygote.spawn_all([h.spawn(self.zygote, files) for h in helpers],
                                               self.limits.start_seconds)
            except OSError:  # the zygote is gone: graded here
                forked = [None] * len(helpers)
        for helper, proc in zip(helpers, forked, strict=True):
            helper.proc = proc
        self.helpers = helpers

    def grade(self, on_result=None) -> Report:
        """The groups' reports, merged in grading order; `on_result` sees each result in
        that order, a group's once it is graded."""
        started, on_result = time.monotonic(), on_result or (lambda result: None)
        if self.beside:
            self.starting.join()
        reports = []
        for i, group in enumerate(self.groups):
            answer = self.helpers[i].answer() if self.helpers else None
            if answer is None:  # graded here, its results passed on as they come
                report, weaknesses = grade_here(self.submission, self.seed, self.limits, group, self.sandboxes,
                                                on_result)
            else:
                report, weaknesses = answer
                for result in report.tests:
                    on_result(result)
            self.weaknesses = self.weaknesses if i else weaknesses
            reports.append(report)
        return dataclasses.replace(reports[0], parts=name_once([p for r in reports for p in r.parts]),
                                   tests=[t for r in reports for t in r.tests],
                                   seconds=round(time.monotonic() - started, 2))

    def close(self) -> None:
        if self.beside:
            self.starting.join()
        self.sandboxes.close()
        for helper in self.helpers:
            helper.close()
        if self.own:
            self.zygote.close()


class Helper:
    """A grading process that the zygote forks to grade some lanes (`main` below)."""

    def __init__(self, request: dict):
        self.folder = tempfile.TemporaryDirectory(prefix="grader-lanes-")
        self.path = Path(self.folder.name)
        (self.path / "request.json").write_text(json.dumps(request))
        self.proc = None  # once forked

    def spawn(self, zygote, files: contextlib.ExitStack) -> tuple[dict, list[int]]:
        """Its spawn request, and its descriptors (closed with `files`, once it is forked)."""
        channel = files.enter_context(zygote.connect())
        stdio = [files.enter_context(open(self.path / name, mode))
                 for name, mode in (("request.json", "rb"), ("answer.json", "wb"), ("log.txt", "wb"))]
        return ({"module": "grader.lanes", "env": dict(os.environ), "cwd": "/"},
                [*(f.fileno() for f in stdio), channel.fileno()])

    def answer(self) -> tuple[Report, list[str]] | None:
        """Its report and its worker's weaknesses once it ended, or None when it failed."""
        if self.proc is None or self.proc.wait() != 0:
            return None
        try:
            answer = json.loads((self.path / "answer.json").read_text())
            return _report(answer["report"]), [str(w) for w in answer["weaknesses"]]
        except (ValueError, KeyError, TypeError):
            return None

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            kill_tree(self.proc.pid)
            self.proc.wait()
        self.folder.cleanup()


def grade_here(submission, seed: int, limits: Limits, parts: tuple[str, ...], sandboxes: Sandboxes,
               on_result=None) -> tuple[Report, list[str]]:
    """`parts` graded in this process, and what the platform refused to the worker of their
    first lane (`Sandbox.weaknesses`, known once it started)."""
    from grader.runner import grade
    weaknesses = sandboxes.of(submission.lab.assignment_of(parts[0]).name).weaknesses()
    return grade(submission, seed, limits, parts, sandboxes, on_result), weaknesses


def name_once(parts: list[PartResult]) -> list[PartResult]:
    """The parts of one notebook share its cells: a skipped statement is named once, at its first part."""
    noted = set()
    for part in parts:
        part.skipped = [s for s in part.skipped if (s["where"], s["error"]) not in noted]
        noted |= {(s["where"], s["error"]) for s in part.skipped}
    return parts


def _plain(report: Report) -> dict:
    """The report as JSON values, each artifact with its kind."""
    plain = dataclasses.asdict(report)
    for test, result in zip(plain["tests"], report.tests, strict=True):
        test["artifacts"] = [dict(dataclasses.asdict(a), kind=a.kind) for a in result.artifacts]
    return plain


def _report(plain: dict) -> Report:
    tests = [TestResult(**dict(t, artifacts=[ARTIFACTS[a.pop("kind")](**a) for a in t["artifacts"]]))
             for t in plain["tests"]]
    return Report(**dict(plain, parts=[PartResult(**p) for p in plain["parts"]], tests=tests))


def main() -> None:
    request = json.load(sys.stdin)
    from grader.sandbox.zygote import Connection
    from grader.submission import open_submission
    zygote = Connection(socket.socket(fileno=int(sys.argv[1])))
    submission = open_submission(request["path"])
    if submission.digest != request["digest"]:
        sys.exit("the submission changed while it was graded")
    limits, imports, parts = Limits(**request["limits"]), tuple(request["imports"]), tuple(request["parts"])
    sandboxes = Sandboxes(lambda: Sandbox(limits, submission.files, zygote, imports))
    report, weaknesses = grade_here(submission, request["seed"], limits, parts, sandboxes)
    json.dump({"report": _plain(report), "weaknesses": weaknesses}, sys.stdout)
    sys.stdout.flush()
    zygote.close()


if __name__ == "__main__":
    main()
