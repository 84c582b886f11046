"""The `grade` command: exit statuses, one-line errors, and the contract's JSON."""
from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader import cli
from grader.labs.rdfia import LAB

REFERENCE = Path(__file__).resolve().parents[1] / "reference"

SMALL_MANUAL = '''\
import torch

def init_params(nx, nh, ny):
    return {"Wh": torch.randn(nh, nx) * 0.3, "bh": torch.zeros(nh),
            "Wy": torch.randn(ny, nh) * 0.3, "by": torch.zeros(ny)}
'''


def run_grade(*args, cwd):
    return subprocess.run([sys.executable, "-m", "grader.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def assert_one_clear_line(err: str, *words: str):
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("grade: "), err
    assert "Traceback" not in err
    for word in words:
        assert word in lines[0]


def test_nonexistent_path_exits_2_without_traceback(tmp_path):
    result = run_grade("check", tmp_path / "nothing", cwd=tmp_path)
    assert result.returncode == 2
    assert_one_clear_line(result.stderr, "no such file", "nothing")


def test_unreadable_zip_exits_2(tmp_path, capsys):
    (tmp_path / "sub.zip").write_bytes(b"this is not a zip")
    assert cli.main(["check", str(tmp_path / "sub.zip")]) == 2
    assert_one_clear_line(capsys.readouterr().err, "sub.zip", "zip")


def test_zip_slip_exits_2(tmp_path, capsys):
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as archive:
        archive.writestr("../../tp1_manual.py", SMALL_MANUAL)
    assert cli.main(["check", str(tmp_path / "evil.zip")]) == 2
    assert_one_clear_line(capsys.readouterr().err, "outside")


def test_malformed_single_notebook_exits_2(tmp_path, capsys):
    (tmp_path / "tp1.ipynb").write_text("{ not json")
    assert cli.main(["check", str(tmp_path / "tp1.ipynb")]) == 2
    assert_one_clear_line(capsys.readouterr().err, "tp1.ipynb")


@pytest.mark.parametrize("argv", [[], ["check"], ["nope", "x"], ["check", "x", "--seed", "abc"],
                                  ["check", "x", "--timeout"], ["check", "x", "--bogus"]])
def test_bad_arguments_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    assert "usage: grade" in capsys.readouterr().err


def test_partial_submission_json_matches_the_contract(tmp_path):
    folder = tmp_path / "partial"
    folder.mkdir()
    manual = REFERENCE / "tp1_manual.py"
    (folder / "tp1_manual.py").write_text(manual.read_text() if manual.exists() else SMALL_MANUAL)
    out = tmp_path / "out.json"
    result = run_grade("check", folder, "--tp", "all", "--json", out, "--html", tmp_path / "r.html", cwd=tmp_path)
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    report = json.loads(out.read_text())

    assert set(report) == {"submission", "score", "max_score", "parts", "tests"}
    assert report["submission"] == "partial"
    assert isinstance(report["score"], float) and isinstance(report["max_score"], float)
    assert [p["part"] for p in report["parts"]] == list(LAB.part_names)
    for part in report["parts"]:
        assert set(part) == {"part", "found", "score", "max_score"}
        assert isinstance(part["found"], bool)
        # a float; an int 0 only while the rubric has no test for that part (results.py sums from 0)
        assert type(part["score"]) in (float, int) and type(part["max_score"]) in (float, int)
        assert part["found"] == (part["part"] == "tp1_manual")
    ids = [t["id"] for t in report["tests"]]
    assert len(ids) == len(set(ids)) and report["tests"]
    for test in report["tests"]:
        assert set(test) == {"id", "part", "name", "status", "score", "max_score", "message", "diagnosis"}
        assert test["id"].startswith(test["part"] + "::") and test["part"] in LAB.part_names
        assert test["status"] in ("passed", "failed", "error", "skipped")
        assert isinstance(test["name"], str) and isinstance(test["message"], str)
        assert isinstance(test["score"], float) and isinstance(test["max_score"], float)
        assert test["diagnosis"] is None or isinstance(test["diagnosis"], str)
        assert 0 <= test["score"] <= test["max_score"]
        if test["part"] != "tp1_manual":  # absent: not found, nothing earned
            assert test["status"] == "failed" and test["score"] == 0
            assert "not found" in test["message"]
    assert report["score"] == pytest.approx(sum(t["score"] for t in report["tests"]))
    assert report["max_score"] == pytest.approx(sum(t["max_score"] for t in report["tests"]))
    for part in report["parts"]:
        tests = [t for t in report["tests"] if t["part"] == part["part"]]
        assert part["score"] == pytest.approx(sum(t["score"] for t in tests))


def test_isolation_command_lists_what_is_in_force():
    run = subprocess.run([sys.executable, "-m", "grader.cli", "isolation"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    rows = run.stdout.strip().splitlines()
    assert len(rows) == 9 and all(r.startswith(("yes", "NO")) for r in rows)
    assert any("reference solution and rubric unreadable" in r for r in rows)


def test_a_reader_that_leaves_loses_nothing(tmp_path):
    """`grade check . | head`: the files are written, and no traceback."""
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "answers.py").write_text((REFERENCE / "answers.py").read_text())
    proc = subprocess.Popen([sys.executable, "-m", "grader.cli", "check", str(folder), "--parts", "answers",
                             "--json", str(tmp_path / "r.json")], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    proc.stdout.close()  # the reader is gone before the first line
    _, err = proc.communicate(timeout=300)
    assert "Traceback" not in err and proc.returncode in (0, 1)
    assert json.loads((tmp_path / "r.json").read_text())["score"] == 15
    assert (tmp_path / "reports" / "sub.html").is_file()
