"""Issue 29, `grade gradescope OUT.zip`: the autograder zip, unpacked into a folder laid out
as Gradescope's documentation describes (/autograder/source, submission, results), set up by
its setup.sh (into a venv that sees this machine's torch, with this machine's package index)
and run by its run_autograder as Gradescope would, gives the score and check ids of
`grade check` at the same seed, in a results.json of Gradescope's format."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import REFERENCE, ROOT, full_marks

from grader.commands import gradescope as gradescope_command
from grader.gradescope import autograder, build

SEED = 4242
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}


def validate(results: dict) -> None:
    """Gradescope's results.json as its autograder specification documents it."""
    assert set(results) <= {
        "score",
        "execution_time",
        "output",
        "output_format",
        "test_output_format",
        "test_name_format",
        "visibility",
        "stdout_visibility",
        "extra_data",
        "tests",
        "leaderboard",
    }
    assert isinstance(results["score"], (int, float))
    assert isinstance(results["execution_time"], (int, float))
    assert isinstance(results["output"], str)
    assert results["output_format"] in ("text", "html", "simple_format", "md", "ansi")
    assert results["visibility"] in VISIBILITY and results["stdout_visibility"] in VISIBILITY
    for test in results["tests"]:
        assert set(test) <= {
            "score",
            "max_score",
            "status",
            "name",
            "name_format",
            "number",
            "output",
            "output_format",
            "tags",
            "visibility",
            "extra_data",
        }
        assert isinstance(test["score"], (int, float))
        assert isinstance(test["max_score"], (int, float))
        assert test["status"] in ("passed", "failed") and test["visibility"] in VISIBILITY
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
        assert all(isinstance(tag, str) for tag in test["tags"])
    assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]))


def test_autograder_in_a_gradescope_folder_grades_as_grade_check(tmp_path):
    base = subprocess.run([sys._base_executable, "-c", "import torch"], capture_output=True)
    if (
        base.returncode != 0
    ):  # setup.sh's venv sees the base interpreter's packages, not this venv's
        pytest.skip("the base interpreter has no torch: setup.sh would download it")
    zip_path = tmp_path / "autograder.zip"
    args = {
        "out": str(zip_path),
        "seed": SEED,
        "hidden_visibility": "after_published",
        "timeout": 60.0,
        "tp": None,
    }
    assert gradescope_command.main(type("Args", (), args)) == 0
    root = tmp_path / "autograder"  # /autograder, as Gradescope lays it out
    for sub in ("source", "submission", "results"):
        (root / sub).mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as z:
        assert {"setup.sh", "run_autograder", "config.json"} <= set(z.namelist())
        z.extractall(root / "source")
        for info in z.infolist():  # extractall drops the modes that the zip keeps
            os.chmod(root / "source" / info.filename, info.external_attr >> 16 & 0o777)
    assert json.loads((root / "source" / "config.json").read_text())["seed"] == SEED
    assert (root / "source" / "config.json").stat().st_mode & 0o077 == 0
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    for name in ("tp1_manual.py", "tp1_nn.py", "tp2_cnn.py"):  # template parts, a right answers.py
        shutil.copy2(ROOT / "student_template" / name, root / "submission")
    shutil.copy2(REFERENCE / "answers.py", root / "submission")

    venv = tmp_path / "venv"
    env = {
        **os.environ,
        "GRADER_PYTHON": sys._base_executable,
        "GRADER_VENV": str(venv),
        "GRADER_TORCH_INDEX_URL": "file:///opt/pypi/simple",
        "AUTOGRADER_ROOT": str(root),
    }
    setup = subprocess.run(
        ["bash", "./setup.sh"], cwd=root / "source", env=env, capture_output=True, text=True
    )
    assert setup.returncode == 0, setup.stderr
    assert "instructor edition" in setup.stdout
    # As root where the container allows no sandbox: it grades, and says what was missing.
    run = subprocess.run(
        [str(root / "run_autograder")],
        cwd=root,
        env={**env, "GRADER_ISOLATION": "0"},
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    validate(results)
    assert "weak isolation" in results["output"] and "network" in results["output"]
    assert str(SEED) not in results["output"] and results["stdout_visibility"] == "hidden"

    check = tmp_path / "check.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grader.cli",
            "check",
            str(root / "submission"),
            "--seed",
            str(SEED),
            "--json",
            str(check),
            "--html",
            str(tmp_path / "r.html"),
            "--quiet",
        ],
        capture_output=True,
    )
    expected = json.loads(check.read_text())
    assert results["score"] == expected["score"] == full_marks("answers")
    assert [t["number"] for t in results["tests"]] == [t["id"] for t in expected["tests"]]
    assert [t["score"] for t in results["tests"]] == [t["score"] for t in expected["tests"]]
    # none of today's checks is hidden
    assert all(t["visibility"] == "visible" for t in results["tests"])


def test_hidden_checks_get_the_visibility_chosen_at_build():
    config = {"hidden": ["p::secret"], "hidden_visibility": "after_published"}
    results = {
        "score": 1.0,
        "output": "x: 1 / 3 (seed 99)",
        "tests": [
            {"number": "p::open", "score": 1.0, "max_score": 1.0, "visibility": "visible"},
            {"number": "p::secret", "score": 0.0, "max_score": 2.0, "visibility": "visible"},
        ],
    }
    done = autograder.finish(results, config, [], 1.5)
    assert [t["visibility"] for t in done["tests"]] == ["visible", "after_published"]
    assert done["output"] == "1 / 3 points" and "99" not in done["output"]


def test_an_ungraded_submission_still_gets_results(tmp_path):
    ungraded = {"score": 0, "output": "The submission could not be graded: x", "tests": []}
    results = autograder.finish(ungraded, {"hidden_visibility": "hidden"}, ["network"], 0.1)
    assert results["score"] == 0
    assert results["output"].startswith("The submission could not be graded")
    assert "this container lacks network" in results["output"]


def test_a_zip_uploaded_alone_is_graded_as_the_zip(tmp_path):
    (tmp_path / "tp.zip").write_bytes(b"PK")
    assert autograder.submission(tmp_path) == tmp_path / "tp.zip"
    (tmp_path / "answers.py").write_text("")
    assert autograder.submission(tmp_path) == tmp_path


def test_the_default_seed_is_drawn_secretly(tmp_path, monkeypatch):
    def fake_wheel(out: Path) -> Path:
        (out / "w.whl").write_bytes(b"")
        return out / "w.whl"

    monkeypatch.setattr(build, "_wheel", fake_wheel)
    seeds = {build.build(tmp_path / f"{k}.zip")["seed"] for k in range(3)}
    assert len(seeds) == 3 and 0 not in seeds


def test_grade_check_writes_a_hidden_check_after_published():
    from grader.render import gradescope
    from grader.results import Report, TestResult

    tests = [
        TestResult("p::open", "p", "open", "passed", 1.0, 1.0),
        TestResult("p::secret", "p", "secret", "failed", 0.0, 2.0, hidden=True),
    ]
    shown = gradescope.as_dict(Report("s", 0, [], tests))
    assert [t["visibility"] for t in shown["tests"]] == ["visible", "after_published"]
