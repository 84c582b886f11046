"""Run the rubric (pytest, in this trusted process) against a submission's workers.

`grade(submission, seed)` runs the rubric of the submission's lab with `pytest.main` and
a plugin that gives the tests their fixtures (`student`, `seed`, `record`) and turns each
outcome into a `TestResult`. Each assignment's parts load in a sandboxed worker of their
own (`grader.sandbox.sandboxes.Sandboxes`), as each notebook runs in a Colab session of its own.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import PurePosixPath
from unittest.mock import patch

import pytest
import torch

from grader import copies, static, version
from grader.artifacts import Artifact
from grader.checks import MARKER, CheckFailed
from grader.expected import asked_by
from grader.lab import Lab
from grader.results import PartResult, Report, TestResult, name_once
from grader.sandbox import (
    Limits,
    NameMissing,
    NotImplementedYet,
    Sandbox,
    StudentFault,
    StudentPart,
)
from grader.sandbox.faults import GraderFault
from grader.sandbox.sandboxes import Sandboxes
from grader.submission import Submission
from grader.suggest import own_names

# The rubric's conftest runs it against the reference (`pytest grader/labs/rdfia/rubric`); here the
# plugin below gives the fixtures instead. unraisableexception only warns, after five full
# garbage collections of a heap holding torch (a second at every run). Nothing the rubric
# reads is printed or logged here (student code prints in its worker, which keeps it), so
# neither output nor logs are captured: both cost each phase of each test. Of the plugins
# installed, only pytest-timeout: another one (hypothesis, benchmark) costs time at every
# run, and could change how the rubric runs. Checks fail with `fail(...)`, never a bare
# `assert`: rewriting the rubric's asserts would cost a quarter of a second at every run.
PYTEST_ARGS = [
    "-p",
    "no:cacheprovider",
    "-p",
    "no:terminal",
    "-p",
    "no:stepwise",
    "-p",
    "no:unraisableexception",
    "-p",
    "no:logging",
    "--capture=no",
    "-p",
    "pytest_timeout",
    "--assert=plain",
    "--noconftest",
    "--import-mode=importlib",
    "-o",
    "timeout=900",
    "-c",
    os.devnull,
]


class PartNotFound(Exception):
    pass


class GraderPlugin:
    """The fixtures and hooks that connect pytest to the sandboxes and the results."""

    def __init__(
        self,
        submission: Submission,
        seed: int,
        parts: tuple[str, ...],
        sandboxes: Sandboxes,
        on_result=None,
    ):
        self.submission, self.run_seed, self.parts, self.sandboxes = (
            submission,
            seed,
            parts,
            sandboxes,
        )
        self.on_result = on_result or (lambda result: None)
        self.lab = submission.lab
        self.fault: GraderFault | None = None
        self.loaded: dict[str, StudentPart] = {}
        self.results: list[TestResult] = []
        self.causes: dict[str, frozenset] = {}  # check id -> the mistakes its diagnosis named

    # -- fixtures --------------------------------------------------------------
    @pytest.fixture(scope="session")
    def seed(self) -> int:
        return self.run_seed

    @pytest.fixture
    def student(self, request) -> StudentPart:
        """The submission's part that the test's check id names."""
        part = self.part(_part_of(request.node))
        part.check = request.node.get_closest_marker("grader_check").kwargs["id"]
        return part

    @pytest.fixture
    def record(self, request) -> Callable[[Artifact], None]:
        """Keeps an artifact (`grader.artifacts`) of the test for the report's plots."""
        return request.node.stash.setdefault(ARTIFACTS, []).append

    def part(self, name: str) -> StudentPart:
        if name not in self.loaded:
            chunks = self.submission.parts.get(name)
            if chunks is None:
                raise PartNotFound(self.submission.missing_note(name))
            sandbox = self.sandboxes.of(self.lab.assignment_of(name).name)
            loaded = sandbox.load(
                name,
                [{"origin": c.origin, "code": c.code} for c in chunks],
                course=self.lab.course_modules(),
                provided=self.lab.provided(name),
            )
            modules = {PurePosixPath(f).stem for f in self.submission.files if f.endswith(".py")}
            own = own_names((c.code for c in chunks), modules)
            self.loaded[name] = StudentPart(sandbox, name, self.run_seed, loaded, own)
            self.loaded[name].notes += copies.notes(self.submission.copies, chunks)
        return self.loaded[name]

    # -- hooks -----------------------------------------------------------------
    def pytest_configure(self, config):
        config.addinivalue_line("markers", MARKER)

    def pytest_collection_modifyitems(self, items):
        seen = set()
        for item in items:
            mark = item.get_closest_marker("grader_check")
            if mark is None:
                raise pytest.UsageError(f"{item.nodeid} has no @check(...) marker")
            if mark.kwargs["id"] in seen:
                raise pytest.UsageError(f"duplicate check id {mark.kwargs['id']}")
            if _part_of(item) not in self.lab.part_names:
                raise pytest.UsageError(
                    f"check {mark.kwargs['id']} names no part of the lab {self.lab.name}"
                )
            seen.add(mark.kwargs["id"])
        items[:] = [i for i in items if _part_of(i) in self.parts]
        items.sort(
            key=lambda i: self.lab.part_names.index(_part_of(i))
        )  # stable: file order within a part

    @pytest.hookimpl(tryfirst=True, specname="pytest_runtest_makereport")
    def pytest_runtest_makereport_plain(self, item, call):
        """pytest's report of a failed phase without its text: the results come from the
        exception objects, and pytest's formatting of a failed check's traceback (each
        frame filtered by path) costs more than the check. A skip keeps pytest's report."""
        if call.excinfo is None or isinstance(call.excinfo.value, pytest.skip.Exception):
            return None
        return pytest.TestReport(
            item.nodeid,
            item.location,
            {k: 1 for k in item.keywords},
            "failed",
            call.excinfo.exconly(),
            call.when,
            duration=call.duration,
            start=call.start,
            stop=call.stop,
            user_properties=item.user_properties,
        )

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        done = (call.when == "call") or (call.when == "setup" and report.outcome != "passed")
        if done and call.excinfo and isinstance(call.excinfo.value, GraderFault):
            self.fault = call.excinfo.value  # no check can run: stop, and say why
            item.session.shouldstop = str(self.fault)
        elif done:
            self.results.append(self._result(item, report, call))
            self.on_result(self.results[-1])

    def _result(self, item, report, call) -> TestResult:
        mark = item.get_closest_marker("grader_check").kwargs
        points = float(mark["points"])
        doc = (item.function.__doc__ or item.name).strip().splitlines()[0]
        if hasattr(
            item, "callspec"
        ):  # one check of a table (`pytest.param(..., marks=check(...))`)
            doc = doc.format(**item.callspec.params)
        result = TestResult(
            id=mark["id"],
            part=_part_of(item),
            name=doc,
            status="passed",
            score=points,
            max_score=points,
            question=mark.get("question"),
            hidden=bool(mark.get("hidden")),
            seconds=round(report.duration, 3),
            artifacts=item.stash.get(ARTIFACTS, []),
        )
        part = self.loaded.get(result.part)
        result.output = part.output if part else ""
        if report.skipped:
            result.status, result.score = "skipped", 0.0
            result.message = str(call.excinfo.value) if call.excinfo else ""
        elif report.failed:
            result.score = 0.0
            result.status, result.message, result.diagnosis = _explain(call.excinfo.value)
            result.same_mistake_as = self._charged_before(
                result, call.excinfo.value, mark.get("follows", ())
            )
        return result

    def _charged_before(
        self, result: TestResult, exc: BaseException, follows: tuple[str, ...]
    ) -> str | None:
        """The first earlier failed check of `result`'s part whose diagnosis named one of the
        mistakes (`Mistake.causes`) that this one names; when this one names none, the first
        that failed among the topics it `follows` (code that raised, or is not written yet,
        is not a mistake: its message names the function)."""
        causes: frozenset[str] = getattr(getattr(exc, "diagnosis", None), "causes", frozenset())
        self.causes[result.id] = causes
        earlier = [r for r in self.results if r.part == result.part and r.status == "failed"]
        if causes:
            return next((r.id for r in earlier if causes & self.causes[r.id]), None)
        follows = follows if result.status == "failed" else ()
        return next((r.id for r in earlier if r.id.split("::")[1] in follows), None)

    def pytest_sessionfinish(self):
        self.sandboxes.close()


ARTIFACTS = pytest.StashKey[list]()


def _part_of(item) -> str:
    return item.get_closest_marker("grader_check").kwargs["part"]


def _explain(exc: BaseException) -> tuple[str, str, str | None]:
    """(status, message, diagnosis) of a failed test."""
    if isinstance(exc, CheckFailed):
        return "failed", exc.message, None if exc.diagnosis is None else str(exc.diagnosis)
    if isinstance(exc, (PartNotFound, NameMissing)):
        return "failed", str(exc), None
    if isinstance(exc, NotImplementedYet):
        name = f"`{exc.function}`" if exc.function else "this function"
        return (
            "error",
            f"{name} is not implemented yet: it raises NotImplementedError ({exc.where}).",
            None,
        )
    if isinstance(exc, StudentFault):
        if exc.traceback:
            return "error", f"your code raised an exception:\n{exc.traceback.rstrip()}", None
        return "error", exc.message, None
    if isinstance(exc, AssertionError):
        return "failed", str(exc), None
    if type(exc).__name__ == "Failed":  # pytest.fail, pytest-timeout
        return "error", str(exc), None
    return (
        "error",
        f"internal grader error, not your fault ({type(exc).__name__}: {exc}); please report it",
        None,
    )


def grade(
    submission: Submission,
    seed: int = 0,
    limits: Limits = Limits(),
    parts: tuple[str, ...] | None = None,
    sandboxes: Sandboxes | None = None,
    on_result=None,
) -> Report:
    """Grade `parts` (by default all) of `submission` against its lab's rubric, in
    `sandboxes` (by default a fresh `Sandbox` under `limits` per assignment; one may be
    started already; only benchmarks make `InProcessSandbox`es). The report holds those
    parts only, and `on_result` is called with each test's result as it comes."""
    started = time.monotonic()
    parts = tuple(p for p in submission.lab.part_names if parts is None or p in parts)
    sandboxes = sandboxes or Sandboxes(lambda: Sandbox(limits, submission.files))
    plugin = GraderPlugin(submission, seed, parts, sandboxes, on_result)
    threads = torch.get_num_threads()
    torch.set_num_threads(limits.threads)  # as in the worker: the same verdict on any machine
    try:
        code = _run_rubric(submission.lab, plugin)
    finally:
        torch.set_num_threads(threads)
    if plugin.fault:
        raise plugin.fault
    if code not in (
        pytest.ExitCode.OK,
        pytest.ExitCode.TESTS_FAILED,
        pytest.ExitCode.NO_TESTS_COLLECTED,
    ):
        raise RuntimeError(f"the rubric could not run (pytest exit code {int(code)})")
    found = [
        PartResult(
            part=name,
            found=name in submission.parts,
            source=submission.sources.get(name, ""),
            skipped=plugin.loaded[name].skipped if name in plugin.loaded else [],
            note="" if name in submission.parts else submission.missing_note(name),
            started=name in submission.parts and name not in submission.not_started,
            ignored=submission.ignored.get(name, []),
            notes=plugin.loaded[name].notes if name in plugin.loaded else [],
        )
        for name in parts
    ]
    return Report(
        submission=submission.name,
        seed=seed,
        parts=name_once(found),
        tests=plugin.results,
        grader_version=version(),
        digest=submission.digest,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        seconds=round(time.monotonic() - started, 2),
        flags=[f.as_dict() for f in static.cheat_report(submission)],
    )


def declared_checks(lab: Lab) -> list[dict]:
    """Every check of `lab`'s rubric as its `@check` declares it (id, part, points,
    question), collected, not run."""
    marks: list[dict] = []

    class Collector:
        def pytest_collection_modifyitems(self, items):
            marks.extend(item.get_closest_marker("grader_check").kwargs for item in items)

    code = _run_rubric(lab, Collector(), "--collect-only")
    if code != pytest.ExitCode.OK:
        raise RuntimeError(
            f"the rubric of {lab.name} could not be collected (pytest exit code {int(code)})"
        )
    return marks


def _run_rubric(lab: Lab, plugin, *args: str) -> int | pytest.ExitCode:
    with patch.dict(
        os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1"
    ):  # the plugins are PYTEST_ARGS's
        with asked_by(lab):
            return pytest.main(
                [str(lab.rubric), "--rootdir", str(lab.rubric), *PYTEST_ARGS, *args],
                plugins=[plugin],
            )
