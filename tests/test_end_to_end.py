"""Issue 3's "done when", as tests: the reference scores full marks, the template zero,
a partial submission scores its parts, bad paths exit 2 — through the real `grade` command."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import REPORT_KEYS, ROOT, TEST_KEYS

from grader.labs.rdfia import LAB


def grade(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "grader.cli", "check", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("reference")
    run = grade(
        str(ROOT / "reference"),
        "--json",
        str(out / "r.json"),
        "--html",
        str(out / "r.html"),
        cwd=out,
    )
    return run, json.loads((out / "r.json").read_text()), (out / "r.html").read_text()


def test_reference_scores_full_marks(reference_run):
    run, result, _ = reference_run
    assert run.returncode == 0, run.stdout + run.stderr
    assert result["max_score"] > 0 and result["score"] == result["max_score"]
    assert [p["part"] for p in result["parts"]] == list(LAB.part_names)
    assert all(p["found"] and p["max_score"] > 0 for p in result["parts"])
    assert {t["status"] for t in result["tests"]} == {"passed"}


def test_json_follows_the_contract(reference_run):
    _, result, _ = reference_run
    assert set(result) == REPORT_KEYS
    assert result["flags"] == [] and isinstance(result["seed"], int)
    parts = {"part", "found", "score", "max_score", "status", "source", "ignored"}
    assert all(set(p) == parts and p["status"] == "graded" for p in result["parts"])
    assert all(
        set(t) == TEST_KEYS and t["id"].startswith(t["part"] + "::") for t in result["tests"]
    )
    assert len({t["id"] for t in result["tests"]}) == len(result["tests"])


def test_html_report_is_self_contained(reference_run):
    _, result, html = reference_run
    assert html.startswith("<!DOCTYPE html>")
    assert "http://" not in html and "https://" not in html  # opens offline
    assert all(t["id"] in html for t in result["tests"])


def test_template_scores_zero_cleanly(tmp_path):
    run = grade(str(ROOT / "student_template"), "--json", str(tmp_path / "t.json"), cwd=tmp_path)
    result = json.loads((tmp_path / "t.json").read_text())
    assert run.returncode == 1
    assert result["score"] == 0 and result["max_score"] > 0
    assert all(t["status"] in ("failed", "error") for t in result["tests"])
    assert "Traceback" not in run.stdout + run.stderr
    unanswered = [
        t
        for t in result["tests"]
        if "not implemented yet" not in t["message"] and "not answered yet" not in t["message"]
    ]
    assert not unanswered, unanswered[:3]


def test_partial_submission_scores_its_parts(tmp_path):
    folder = tmp_path / "partial"
    folder.mkdir()
    (folder / "answers.py").write_text((ROOT / "reference" / "answers.py").read_text())
    run = grade(str(folder), "--tp", "all", "--json", str(tmp_path / "p.json"), cwd=tmp_path)
    result = json.loads((tmp_path / "p.json").read_text())
    assert run.returncode == 1
    parts = {p["part"]: p for p in result["parts"]}
    assert (
        parts["answers"]["found"] and parts["answers"]["score"] == parts["answers"]["max_score"] > 0
    )
    for name in LAB.part_names[:-1]:
        assert not parts[name]["found"] and parts[name]["score"] == 0
        assert all("not found" in t["message"] for t in result["tests"] if t["part"] == name)


@pytest.mark.parametrize("content", [None, b"not a zip"], ids=["missing", "bad-zip"])
def test_unreadable_path_exits_2_with_one_line(tmp_path, content):
    path = tmp_path / "submission.zip"
    if content is not None:
        path.write_bytes(content)
    run = grade(str(path), cwd=tmp_path)
    assert run.returncode == 2
    assert run.stdout == "" and len(run.stderr.strip().splitlines()) == 1
    assert "Traceback" not in run.stderr
