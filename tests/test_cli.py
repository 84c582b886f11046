"""The `grade` command: exit statuses, one-line errors, and the contract's JSON."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from conftest import REPORT_KEYS, ROOT, TEST_KEYS, full_marks
from filled import filled

from grader import cli
from grader.labs.rdfia import LAB
from grader.submission import open_submission, submission_name

REFERENCE = Path(__file__).resolve().parents[1] / "reference"

SMALL_MANUAL = """\
import torch

def init_params(nx, nh, ny):
    return {"Wh": torch.randn(nh, nx) * 0.3, "bh": torch.zeros(nh),
            "Wy": torch.randn(ny, nh) * 0.3, "by": torch.zeros(ny)}
"""


def run_grade(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "grader.cli", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


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


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["check"],
        ["nope", "x"],
        ["check", "x", "--seed", "abc"],
        ["check", "x", "--timeout"],
        ["check", "x", "--bogus"],
    ],
)
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
    result = run_grade(
        "check", folder, "--tp", "all", "--json", out, "--html", tmp_path / "r.html", cwd=tmp_path
    )
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    report = json.loads(out.read_text())

    assert set(report) == REPORT_KEYS
    assert report["flags"] == []
    seed = (Path(os.environ["XDG_CONFIG_HOME"]) / "rdfia-grader" / "grading-seed").read_text()
    assert (
        report["seed"] == int(seed) != 0
    )  # the instructor's secret seed, drawn once, kept per user
    assert report["submission"] == "partial"
    assert isinstance(report["score"], float) and isinstance(report["max_score"], float)
    assert [p["part"] for p in report["parts"]] == list(LAB.part_names)
    for part in report["parts"]:
        assert set(part) == {"part", "found", "score", "max_score", "status", "source", "ignored"}
        assert isinstance(part["found"], bool) and part["ignored"] == []
        assert part["status"] == ("graded" if part["found"] else "not found")
        # a float; an int 0 only while the rubric has no test for that part (results.py sums from 0)
        assert type(part["score"]) in (float, int) and type(part["max_score"]) in (float, int)
        assert part["found"] == (part["part"] == "tp1_manual")
    ids = [t["id"] for t in report["tests"]]
    assert len(ids) == len(set(ids)) and report["tests"]
    for test in report["tests"]:
        assert set(test) == TEST_KEYS
        assert (
            test["same_mistake_as"] is None
            or test["same_mistake_as"] in ids[: ids.index(test["id"])]
        )
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
    run = subprocess.run(
        [sys.executable, "-m", "grader.cli", "isolation"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    rows = run.stdout.strip().splitlines()
    assert len(rows) == 16 and all(r.startswith(("yes", "NO")) for r in rows)
    assert any("solution, rubric, source tree and .git unreadable" in r for r in rows)
    for what in (
        "an unprivileged user",
        "syscall filter",
        "memory bound",
        "CPU shared",
    ):  # issue 27
        assert any(what in r for r in rows), what


def test_a_reader_that_leaves_loses_nothing(tmp_path):
    """`grade check . | head`: the files are written, and no traceback."""
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "answers.py").write_text((REFERENCE / "answers.py").read_text())
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "grader.cli",
            "check",
            str(folder),
            "--parts",
            "answers",
            "--json",
            str(tmp_path / "r.json"),
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    proc.stdout.close()  # the reader is gone before the first line
    _, err = proc.communicate(timeout=300)
    assert "Traceback" not in err and proc.returncode in (0, 1)
    assert json.loads((tmp_path / "r.json").read_text())["score"] == full_marks("answers")
    assert (tmp_path / "reports" / "sub.html").is_file()


# -- issue 16: errors and exit codes ---------------------------------------------------------


def answers_folder(tmp_path, name="sub") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "answers.py").write_text((REFERENCE / "answers.py").read_text())
    return folder


def test_a_file_that_cannot_be_written_exits_2_and_the_others_are_written(tmp_path):
    folder = answers_folder(tmp_path)
    (tmp_path / "adir").mkdir()
    result = run_grade(
        "check",
        folder,
        "--parts",
        "answers",
        "--html",
        tmp_path / "adir",
        "--json",
        tmp_path / "r.json",
        "--junit",
        "/proc/x.xml",
        "--gradescope",
        tmp_path / "g.json",
        cwd=tmp_path,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 2 and all(
        line.startswith("grade: cannot write the ") for line in errors
    ), errors
    assert "adir" in errors[0] and "/proc/x.xml" in errors[1]
    assert json.loads((tmp_path / "r.json").read_text())["score"] == full_marks("answers")
    assert json.loads((tmp_path / "g.json").read_text())["score"] == full_marks("answers")


@pytest.mark.parametrize("make", ["truncated notebook", "empty folder", "no part"])
def test_an_ungradable_submission_still_writes_the_machine_files(tmp_path, make, capsys):
    if make == "truncated notebook":
        path = tmp_path / "tp1.ipynb"
        path.write_text('{"cells": [{"cell_type": "code", "source": "x = 1"')
    else:
        path = tmp_path / "student"
        path.mkdir()
        if make == "no part":
            (path / "notes.py").write_text("print('hello')\n")
    files = {f: tmp_path / f"out.{f}" for f in ("json", "junit", "gradescope")}
    assert (
        cli.main(["check", str(path), *(a for f, p in files.items() for a in (f"--{f}", str(p)))])
        == 2
    )
    err = capsys.readouterr().err
    reason = err.strip().removeprefix("grade: ")
    assert_one_clear_line(err, path.name)
    if make != "truncated notebook":
        assert "nothing of the lab was found" in err
    data = json.loads(files["json"].read_text())
    assert data["score"] == 0 and data["tests"] == [] and data["error"] == reason
    assert data["submission"] == path.stem
    scope = json.loads(files["gradescope"].read_text())
    assert scope["score"] == 0 and scope["output"] == reason
    junit_root = ET.parse(files["junit"]).getroot()
    assert junit_root.find(".//testcase/error").get("message") == reason
    assert not (tmp_path / "reports").exists()  # nothing asked for, nothing more written


def test_two_files_for_one_part_say_which_is_graded(tmp_path):
    (tmp_path / "sub" / "old").mkdir(parents=True)
    (tmp_path / "sub" / "tp1_nn.py").write_text("A = 1\n")
    (tmp_path / "sub" / "old" / "tp1_nn.py").write_text("A = 2\n")
    sub = open_submission(tmp_path / "sub")
    assert sub.sources["tp1_nn"] == "tp1_nn.py"
    assert sub.notes == [
        "two files hold `tp1_nn`: tp1_nn.py is graded, old/tp1_nn.py is ignored "
        "(also written; tp1_nn.py comes first in the contract's order)"
    ]


def test_the_file_the_student_wrote_is_graded_not_the_template_copy(tmp_path):
    """grade init's modules beside a notebook the student filled: the notebook is graded, and
    the report says the module is the template as handed out; no note, nothing to choose."""
    folder = tmp_path / "sub"
    shutil.copytree(ROOT / "student_template", folder)
    (folder / "notebooks" / "1-ab.ipynb").write_text(
        filled(folder / "notebooks" / "1-ab.ipynb", ("tp1_manual",))
    )
    sub = open_submission(folder)
    assert sub.sources["tp1_manual"] == "notebooks/1-ab.ipynb, Part 1" and sub.notes == []
    assert {"source": "tp1_manual.py", "why": "the template as handed out"} in sub.ignored[
        "tp1_manual"
    ]
    assert sub.not_started == set(LAB.part_names) - {"tp1_manual"}
    assert (
        sub.sources["tp1_nn"] == "tp1_nn.py"
    )  # none written: the first, as the contract orders them


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "x", "--timeout", "-5"],
        ["check", "x", "--timeout", "0"],
        ["check", "x", "--timeout", "nan"],
        ["check", "x", "--timeout", "inf"],
        ["check", "x", "--seed", "-1"],
        ["batch", "c", "--out", "o", "--jobs", "0"],
        ["batch", "c", "--out", "o", "--submission-timeout", "-1"],
    ],
)
def test_values_that_make_no_sense_are_refused(argv, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    assert argv[-1] in capsys.readouterr().err


def test_check_dot_is_named_after_the_folder(tmp_path, monkeypatch):
    folder = tmp_path / "my-repo"
    folder.mkdir()
    monkeypatch.chdir(folder)
    assert submission_name(".") == "my-repo" and submission_name("../my-repo/") == "my-repo"
    assert submission_name("alice.zip") == "alice" and submission_name("tp1.ipynb") == "tp1"


def test_a_syntax_error_is_named_by_every_check_of_its_part(tmp_path):
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "tp1_manual.py").write_text(SMALL_MANUAL + "\ndef forward(params, X)\n    return X\n")
    result = run_grade(
        "check", folder, "--parts", "tp1_manual", "--json", tmp_path / "r.json", cwd=tmp_path
    )
    assert result.returncode == 1, result.stderr
    tests = json.loads((tmp_path / "r.json").read_text())["tests"]
    line = SMALL_MANUAL.count("\n") + 2
    missing = [t for t in tests if t["status"] != "passed" and "not found" in t["message"]]
    assert missing and all(
        f"tp1_manual.py, line {line} does not parse (SyntaxError: expected ':')" in t["message"]
        for t in missing
    ), [t["message"] for t in missing][:3]


# -- issue 16: the command line people expect -------------------------------------------------


def test_version_names_the_edition(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert re.fullmatch(r"grade \S+ \(instructor edition\)\n", capsys.readouterr().out)


def test_every_option_shows_its_default_and_batch_its_exit_codes():
    commands = next(a for a in cli.parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in commands.choices.items():
        for action in sub._actions:
            if action.option_strings and action.help != argparse.SUPPRESS and action.dest != "help":
                assert "default" in action.help or "required" in action.help, (name, action.dest)
    batch_help = commands.choices["batch"].format_help()
    assert all(code in batch_help for code in ("0 when", "1 when", "2 when", "130 when"))


def test_init_copies_one_layout_of_the_template_and_never_overwrites(tmp_path, capsys):
    """The notebooks by default (the combined TP 1-ab notebook in place of the per-part ones it
    covers), the modules on demand: each part in one file, so grading them notes nothing."""
    target, template = tmp_path / "start", REFERENCE.parent / "student_template"
    assert cli.main(["init", str(target)]) == 0
    assert sorted(p.name for p in target.iterdir()) == [
        "1-ab.ipynb",
        "answers.ipynb",
        "tp2_cnn.ipynb",
    ]
    assert (target / "1-ab.ipynb").read_bytes() == (
        template / "notebooks" / "1-ab.ipynb"
    ).read_bytes()
    assert f"grade check {target}" in capsys.readouterr().out
    assert cli.main(["init", str(tmp_path / "mods"), "--layout", "modules"]) == 0
    assert {p.name for p in (tmp_path / "mods").iterdir()} == {
        f"{part}.py" for part in LAB.part_names
    }
    for folder in (target, tmp_path / "mods"):
        sub = open_submission(folder)
        assert (
            set(sub.parts) == sub.not_started == set(LAB.part_names)
            and not sub.notes
            and not sub.ignored
        )
    (target / "1-ab.ipynb").write_text("# my work\n")
    assert cli.main(["init", str(target)]) == 2
    assert (target / "1-ab.ipynb").read_text() == "# my work\n"
    assert_one_clear_line(capsys.readouterr().err, "not an empty folder")


def test_init_works_from_the_built_package(tmp_path):
    """What a wheel holds is what setuptools' build_py lays out: `grade init` from there."""
    build = subprocess.run(
        [
            sys.executable,
            "-c",
            "import setuptools; setuptools.setup()",
            "-q",
            "build_py",
            "--build-lib",
            str(tmp_path / "lib"),
        ],
        cwd=REFERENCE.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    assert (tmp_path / "lib" / "grader" / "student_template" / "notebooks" / "1-ab.ipynb").is_file()
    run = subprocess.run(
        [sys.executable, "-m", "grader.cli", "init", "start"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(tmp_path / "lib")},
    )
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "start" / "1-ab.ipynb").is_file()


def test_list_prints_each_check_with_points_question_and_assignment(capsys):
    from grader import catalogue

    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    marks = catalogue.checks()
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:] if "::" in line}
    assert set(rows) == {m["id"] for m in marks} and len(marks) > 50
    for m in marks:
        row = rows[m["id"]]
        assert float(row[1]) == m["points"] and row[-1] == LAB.assignment_of(m["part"]).name
        assert m["question"] in " ".join(row)
    assert f"{len(marks)} checks, {sum(m['points'] for m in marks):g} points" in out
    for expected in ("1191170", "1,191,170", "0.95", "padding"):  # answers of the handout
        assert expected not in out


def test_quiet_prints_one_line_and_open_opens_the_report(tmp_path):
    folder = answers_folder(tmp_path, "quiet")
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.py"
    browser.write_text(
        f"import sys, pathlib\npathlib.Path({str(opened)!r}).write_text(sys.argv[1])\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader.cli",
            "check",
            str(folder),
            "--parts",
            "answers",
            "--quiet",
            "--open",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "BROWSER": f"{sys.executable} {browser} %s"},
    )
    assert result.returncode == 0, result.stderr
    seed = (
        (Path(os.environ["XDG_CONFIG_HOME"]) / "rdfia-grader" / "grading-seed").read_text().strip()
    )
    full = full_marks("answers")
    assert (
        result.stdout == f"quiet: {full:g} / {full:g} points (seed {seed})\n" and seed != "0"
    )  # the instructor's
    assert opened.read_text() == (tmp_path / "reports" / "quiet.html").as_uri()


def test_several_files_left_out_are_listed_one_a_line(tmp_path):
    (tmp_path / "sub" / "old").mkdir(parents=True)
    for name in ("tp1_nn.py", "answers.py"):
        (tmp_path / "sub" / name).write_text("A = 1\n")
        (tmp_path / "sub" / "old" / name).write_text("A = 2\n")
    sub = open_submission(tmp_path / "sub")
    assert sub.notes == [
        "2 files hold a part that another file holds, and are ignored:\n"
        "    old/answers.py (`answers`: answers.py is graded)\n"
        "    old/tp1_nn.py (`tp1_nn`: tp1_nn.py is graded)"
    ]


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "--parts", "tp1_manual", "my-tp"],
        ["check", "my-tp", "--parts", "tp1_manual"],
        ["check", "--parts", "tp1_manual,answers", "my-tp"],
        ["check", "--parts", "tp1_manual", "--parts", "answers", "my-tp"],
    ],
)
def test_parts_stop_at_the_path(argv):
    p = cli.parser()
    args = cli._parts_then_path(p, p.parse_args(argv))
    assert (
        args.path == "my-tp"
        and args.parts[0] == "tp1_manual"
        and set(args.parts) <= {"tp1_manual", "answers"}
    )


def test_parts_without_a_path_or_with_an_unknown_part_are_refused(capsys):
    for argv, error in (
        (["check", "--parts", "tp1_manual"], "required: path"),
        (["check", "x", "--parts", "tp1_manual,nope"], "invalid choice: 'nope'"),
    ):
        with pytest.raises(SystemExit) as info:
            cli.main(argv)
        assert info.value.code == 2 and error in capsys.readouterr().err
