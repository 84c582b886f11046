"""`grade check`'s lanes (grader.lanes): grading processes beside each other, with the
verdicts of one process grading the lanes one after the other."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys

import pytest
from conftest import REFERENCE

from grader.artifacts import Boundary, Curves, Gradient
from grader.lanes import Lanes
from grader.results import PartResult, Report, TestResult
from grader.results import from_dict as _report
from grader.results import to_dict as _plain
from grader.runner import grade
from grader.sandbox import Limits
from grader.submission import open_submission

PARTS = ("tp1_manual", "answers")  # one part of each assignment: two lanes, quickly graded
linux = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="helpers are forked by a zygote"
)


def verdicts(report: Report):
    return [dataclasses.replace(t, seconds=0.0) for t in report.tests], report.parts


def lanes_grade(path, submission) -> tuple[Report, list]:
    lanes = Lanes(path, submission, PARTS, 0, Limits())
    try:
        return lanes.grade(), [h.answer() for h in lanes.helpers]
    finally:
        lanes.close()


@linux
def test_each_lane_is_graded_beside_the_others_with_the_same_verdicts(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    submission = open_submission(REFERENCE)
    report, answers = lanes_grade(REFERENCE, submission)
    assert len(answers) == 2 and all(answers), "each lane had a helper of its own, which answered"
    assert [t.part for t in report.tests] == sorted((t.part for t in report.tests), key=PARTS.index)
    assert verdicts(report) == verdicts(grade(submission, parts=PARTS))
    assert report.score == report.max_score > 0


@linux
def test_one_core_grades_every_lane_here(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    submission = open_submission(REFERENCE)
    report, answers = lanes_grade(REFERENCE, submission)
    assert answers == []
    assert verdicts(report) == verdicts(grade(submission, parts=PARTS))


@linux
def test_a_helper_that_fails_costs_time_only(tmp_path, monkeypatch):
    """The submission changed after it was read: the helpers refuse it, and the lanes are
    graded here, as it was read."""
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    folder = tmp_path / "sub"
    shutil.copytree(REFERENCE, folder)
    submission = open_submission(folder)
    (folder / "answers.py").write_text("FIGURE1_SIZES = None\n")
    report, answers = lanes_grade(folder, submission)
    assert answers == [None, None]
    assert verdicts(report) == verdicts(grade(submission, parts=PARTS))
    assert report.score == report.max_score > 0


def test_a_report_comes_back_from_a_helper_whole():
    artifacts = [
        Curves(
            student={"train_loss": [0.7, float("nan")]}, reference=None, before={"test_loss": 0.7}
        ),
        Boundary(axis=[0.0, 0.1], prob=[[0.2, 0.8], [0.5, 0.5]], points=[[0.0, 1.0]], labels=[1]),
        Gradient(name="∇Wy", expected=[[1.0, 2.0]], received=[[2.0, 1.0]]),
    ]
    report = Report(
        "s",
        3,
        [PartResult("tp1_manual", True, "tp1_manual.py", [{"where": "w", "error": "e"}])],
        [
            TestResult(
                "tp1_manual::a",
                "tp1_manual",
                "a",
                "failed",
                0.0,
                2.0,
                "m",
                "d",
                "1-ab Q2",
                "tp1_manual::b",
                "printed",
                0.5,
                artifacts,
            )
        ],
        "v",
        "now",
        "abc",
        1.5,
        [{"where": "x", "what": "y"}],
    )
    back = _report(json.loads(json.dumps(_plain(report))))
    assert repr(back) == repr(report)  # NaN != NaN: compared as text
    assert [type(a) for a in back.tests[0].artifacts] == [Curves, Boundary, Gradient]


def test_where_no_zygote_runs_each_lane_has_a_fresh_worker_started_at_once(monkeypatch):
    """macOS and Windows: no fork server; every lane's worker starts with the grading."""
    monkeypatch.setattr(sys, "platform", "darwin")  # what the scheduler reads
    submission = open_submission(REFERENCE)
    lanes = Lanes(REFERENCE, submission, PARTS, 0, Limits())
    try:
        assert lanes.zygote is None and sorted(lanes.sandboxes.open) == ["1-ab", "1-cd"]
        report = lanes.grade()
    finally:
        lanes.close()
    assert verdicts(report) == verdicts(grade(submission, parts=PARTS))
