"""The scheduler of `grade check`'s lanes: which groups of lanes are graded where (see
`grader.lanes`)."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import threading
import time
from pathlib import Path

from grader import static
from grader.lanes.helper import LaneProcess
from grader.results import Report, name_once
from grader.sandbox import Limits, Sandbox
from grader.sandbox.sandboxes import Sandboxes


class Lanes:
    """The grading of `parts` of `submission` (read from `path`), in groups of consecutive
    lanes. `zygote` forks the workers of `grade batch`'s grading process, which grades every
    lane itself, one after the other. Without it, on Linux, the lanes get a zygote of their
    own, and a new group starts at each lane with code to grade while cores remain (a lane of
    templates alone is quick). Two groups or more: the zygote forks a helper for each, and this
    process imports no torch; one: this process grades it, importing torch as the zygote does."""

    def __init__(
        self,
        path,
        submission,
        parts: tuple[str, ...],
        seed: int,
        limits: Limits,
        zygote=None,
        imports: tuple[str, ...] = (),
    ):
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
            busy = [
                i for i, (_, lane) in enumerate(lanes) if i and static.implemented(submission, lane)
            ]
            cuts = [0, *busy[: (os.cpu_count() or 1) - 1], len(lanes)]
            self.groups = [
                tuple(p for _, lane in lanes[a:b] for p in lane)
                for a, b in zip(cuts, cuts[1:], strict=False)
            ]
        self.beside = len(self.groups) > 1  # helpers grade the groups
        if zygote is None:
            for name, _ in lanes:  # fresh workers import torch while this process starts
                self.sandboxes.of(name).start()
        self.helpers: list[LaneProcess] = []
        if self.beside:
            # Forked once the zygote has imported torch (the spawn waits for it): meanwhile this
            # process goes on (the HTML report's imports).
            request = {
                "path": str(Path(path).resolve()),
                "digest": submission.digest,
                "seed": seed,
                "limits": dataclasses.asdict(limits),
                "imports": list(imports),
            }
            self.starting = threading.Thread(
                target=self._start_helpers, args=(request,), daemon=True
            )
            self.starting.start()
        else:  # torch, pytest and the rubric, now: while the workers start, and before other threads
            import grader.runner  # noqa: F401

    def _start_helpers(self, request: dict) -> None:
        helpers = [LaneProcess(dict(request, parts=group)) for group in self.groups]
        with contextlib.ExitStack() as files:
            try:
                forked = self.zygote.spawn_all(
                    [h.spawn(self.zygote, files) for h in helpers], self.limits.start_seconds
                )
            except OSError:  # the zygote is gone: graded here
                forked = [None] * len(helpers)
        for helper, proc in zip(helpers, forked, strict=False):
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
                report, weaknesses = grade_here(
                    self.submission, self.seed, self.limits, group, self.sandboxes, on_result
                )
            else:
                report, weaknesses = answer
                for result in report.tests:
                    on_result(result)
            self.weaknesses = self.weaknesses if i else weaknesses
            reports.append(report)
        return dataclasses.replace(
            reports[0],
            parts=name_once([p for r in reports for p in r.parts]),
            tests=[t for r in reports for t in r.tests],
            seconds=round(time.monotonic() - started, 2),
        )

    def close(self) -> None:
        if self.beside:
            self.starting.join()
        self.sandboxes.close()
        for helper in self.helpers:
            helper.close()
        if self.own:
            self.zygote.close()


def grade_here(
    submission,
    seed: int,
    limits: Limits,
    parts: tuple[str, ...],
    sandboxes: Sandboxes,
    on_result=None,
) -> tuple[Report, list[str]]:
    """`parts` graded in this process, and what the platform refused to the worker of their
    first lane (`Sandbox.weaknesses`, known once it started)."""
    from grader.runner import grade

    weaknesses = sandboxes.of(submission.lab.assignment_of(parts[0]).name).weaknesses()
    return grade(submission, seed, limits, parts, sandboxes, on_result), weaknesses
