"""The API under the command line: `grader.api.grade(path, Options) -> Report`."""

from __future__ import annotations

import pytest
from conftest import REFERENCE

from grader import api


class Heard(api.Progress):
    def __init__(self):
        self.said: list = []

    def started(self, submission, selection):
        self.said.append(("started", submission.name))

    def result(self, result):
        self.said.append(("result", result.id))

    def weaknesses(self, missing):
        self.said.append(("weaknesses", tuple(missing)))


def test_grade_returns_the_report_and_tells_the_caller_as_it_goes():
    heard = Heard()
    report = api.grade(REFERENCE, api.Options(seed=0, parts=("tp1_manual",)), heard)
    assert report.seed == 0 and [p.part for p in report.parts] == ["tp1_manual"]
    assert report.score == report.max_score > 0
    assert heard.said[0] == ("started", report.submission) and heard.said[-1][0] == "weaknesses"
    assert [s[1] for s in heard.said[1:-1]] == [t.id for t in report.tests]


def test_a_submission_that_cannot_be_graded_raises_not_graded_with_the_reason(tmp_path):
    (tmp_path / "notes.txt").write_text("nothing of the lab")
    with pytest.raises(api.NotGraded, match="nothing of the lab was found"):
        api.grade(tmp_path, api.Options(seed=0))


def test_options_cross_a_process_as_json_and_judge_all_when_they_select():
    options = api.Options(seed=3, parts=("tp1_manual", "tp1_autograd"), timeout=5.0)
    assert api.Options.from_dict(options.to_dict()) == options
    assert options.judges_all and api.Options(tp="1-ab").judges_all and not api.Options().judges_all
    assert api.resolved(options) is options
