"""Every renderer reads the same results model; checked on a hand-made report."""
from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET

import pytest

from grader.render import gradescope, html, junit, terminal
from grader.render import json as json_render
from grader.results import PARTS, PartResult, Report, TestResult


@pytest.fixture
def report() -> Report:
    tests = [
        TestResult("tp1_manual::backward::grad_Wy", "tp1_manual", "∇Wy matches the handout's formula", "failed",
                   0.0, 2.0, message="∇Wy should have shape (2, 10); got shape (10, 2).",
                   diagnosis="∇Wy is transposed: <use ∇Ỹᵀ H>", question="1-ab Q16"),
        TestResult("tp1_manual::forward::yhat", "tp1_manual", "forward gives softmax rows", "passed", 1.0, 1.0),
        TestResult("answers::total_params", "answers", "TOTAL_PARAMS", "error", 0.0, 1.0, message="boom",
                   output="printed\n"),
    ]
    parts = [PartResult(p, found=p in ("tp1_manual", "answers"), source=f"{p}.py") for p in PARTS]
    return Report("alice", 0, parts, tests, grader_version="0.1.0", created="2026-11-23T00:00:00+00:00",
                  digest="abc", seconds=1.5)


def test_json_follows_the_contract(report, tmp_path):
    json_render.write(report, tmp_path / "r.json")
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["score"] == 1.0 and data["max_score"] == 4.0
    assert [p["part"] for p in data["parts"]] == list(PARTS)
    assert data["parts"][0] == {"part": "tp1_manual", "found": True, "score": 1.0, "max_score": 3.0}
    assert data["tests"][0]["diagnosis"].startswith("∇Wy is transposed")


def test_terminal_plain_lists_each_part_and_failure(report):
    out = io.StringIO()
    terminal.render(report, out, color=False)
    text = out.getvalue()
    assert "alice: 1 / 4 points" in text
    assert "tp1_autograd" in text and "(not found)" in text
    assert "FAIL tp1_manual::backward::grad_Wy (0/2) [1-ab Q16]" in text
    assert "likely mistake: ∇Wy is transposed" in text
    assert "\x1b[" not in text


def test_terminal_colour_keeps_the_words(report):
    out = io.StringIO()
    terminal.render(report, out, color=True)
    assert "FAIL" in out.getvalue() and "likely mistake" in out.getvalue()


def test_html_escapes_and_shows_status_as_text(report):
    page = html.render(report)
    assert "&lt;use ∇Ỹᵀ H&gt;" in page and "<use" not in page
    assert "✘ FAILED" in page and "✔ PASSED" in page and "⚠ ERROR" in page
    assert "handout 1-ab Q16" in page and "<link" not in page and "<script" not in page


def test_junit_has_one_testcase_per_check(report, tmp_path):
    junit.write(report, tmp_path / "r.xml")
    root = ET.parse(tmp_path / "r.xml").getroot()
    cases = root.findall(".//testcase")
    assert [c.get("name") for c in cases] == [t.id for t in report.tests]
    assert root.get("failures") == "1" and root.get("errors") == "1"
    assert cases[0].find("failure") is not None and cases[1].find("failure") is None


def test_gradescope_schema(report):
    data = gradescope.as_dict(report)
    assert data["score"] == 1.0
    assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(data["tests"][0])
    assert data["tests"][0]["status"] == "failed" and "Likely mistake" in data["tests"][0]["output"]
