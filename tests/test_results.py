"""The one serialisation of a Report (`grader.results.to_dict`/`from_dict`): lossless, and
the contract's JSON a projection of it that reads back with what it holds."""

from __future__ import annotations

import json

import pytest
from conftest import TEST_KEYS

from grader.artifacts import Boundary, Curves, Gradient
from grader.batch.reader import report_from_json
from grader.render import json as json_render
from grader.results import PartResult, Report, TestResult, from_dict, to_dict


def full_report() -> Report:
    """Every field of a report set, none at its default."""
    artifacts = [
        Curves(
            student={"train_loss": [0.7, 0.5]},
            reference={"train_loss": [0.6]},
            before={"test_loss": 0.7},
        ),
        Boundary(axis=[0.0, 0.1], prob=[[0.2, 0.8], [0.5, 0.5]], points=[[0.0, 1.0]], labels=[1]),
        Gradient(name="∇Wy", expected=[[1.0, 2.0]], received=[[2.0, 1.0]]),
    ]
    parts = [
        PartResult(
            "tp1_manual",
            True,
            "tp1.ipynb, Part 1",
            [{"where": "cell 3", "error": "NameError"}],
            "a note",
            False,
            [{"source": "old.py", "why": "a copy"}],
            ["judged as ..."],
        ),
        PartResult("tp2_cnn", False, note="not found; did you mean tp2?", started=False),
    ]
    tests = [
        TestResult(
            "tp1_manual::a",
            "tp1_manual",
            "a",
            "failed",
            0.0,
            2.0,
            "came back 3",
            "transposed",
            "1-ab Q2",
            "tp1_manual::b",
            "printed",
            0.5,
            artifacts,
            True,
        ),
        TestResult("tp1_manual::b", "tp1_manual", "b", "passed", 1.5, 1.5),
    ]
    return Report(
        "s",
        7,
        parts,
        tests,
        "1.2",
        "2026-01-01T00:00:00+00:00",
        "abc",
        3.25,
        [{"where": "tp1.py:3", "what": "imports grader"}],
        "",
    )


def test_a_report_comes_back_whole_through_json():
    report = full_report()
    back = from_dict(json.loads(json.dumps(to_dict(report))))
    assert back == report
    assert [type(a) for a in back.tests[0].artifacts] == [Curves, Boundary, Gradient]


def test_the_contract_json_reads_back_with_every_field_it_holds():
    report = full_report()
    data = json.loads(json_render.render(report))
    back = report_from_json(data, seed=7)
    kept = TEST_KEYS
    for got, sent in zip(back.tests, report.tests, strict=False):
        assert {k: getattr(got, k) for k in kept} == {k: getattr(sent, k) for k in kept}
        assert got.artifacts == [] and got.output == ""  # never in the contract's JSON
    assert [(p.part, p.found, p.source, p.ignored, p.notes) for p in back.parts] == [
        (p.part, p.found, p.source, p.ignored, p.notes) for p in report.parts
    ]
    assert (back.submission, back.seed, back.flags) == ("s", 7, report.flags)
    assert back.score == report.score


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"tests": [], "parts": [[]]},
        {"tests": [{"id": "x"}], "parts": []},
        {"tests": [], "parts": [], "flags": 3},
    ],
)
def test_what_is_not_a_report_raises_what_the_batch_catches(data):
    from grader.batch.reader import MALFORMED

    with pytest.raises(MALFORMED):
        from_dict(data)
