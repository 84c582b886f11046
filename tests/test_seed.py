"""The seed the instructor grades by default: secret, drawn once, kept, never the public one."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from grader import cli
from grader.commands import batch as command
from grader.expected import PUBLIC_SEED
from grader.seed import FILE, SeedError, default_seed, instructor_seed, user_state_dir


def test_drawn_once_then_kept(tmp_path):
    first = instructor_seed(tmp_path / "out")
    assert first != PUBLIC_SEED and (tmp_path / "out" / FILE).read_text().strip() == str(first)
    assert all(instructor_seed(tmp_path / "out") == first for _ in range(3))
    assert (tmp_path / "out" / FILE).stat().st_mode & 0o077 == 0  # the instructor's alone
    assert [p.name for p in (tmp_path / "out").iterdir()] == [FILE]  # no temporary file left


def test_runs_that_start_together_share_one_seed(tmp_path):
    seeds, threads = (
        [],
        [
            threading.Thread(target=lambda: seeds.append(instructor_seed(tmp_path)))
            for _ in range(8)
        ],
    )
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(seeds)) == 1 and len(seeds) == 8


def test_a_damaged_seed_file_is_said_in_one_line(tmp_path, capsys):
    (tmp_path / FILE).write_text("zero\n")
    with pytest.raises(SeedError, match="--seed N"):
        instructor_seed(tmp_path)
    assert cli.main(["batch", str(tmp_path), "--out", str(tmp_path), "--weak-isolation"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_the_student_edition_grades_the_public_seed(tmp_path):
    assert default_seed("student", tmp_path / "state") == PUBLIC_SEED
    assert not (tmp_path / "state").exists()


def test_check_keeps_its_seed_per_user(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert user_state_dir() == tmp_path / "xdg" / "rdfia-grader"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert user_state_dir() == tmp_path / "home" / ".config" / "rdfia-grader"


@pytest.fixture
def graded_with(monkeypatch):
    """The seed each `grade batch` run grades with (the grading itself left out)."""
    seeds = []

    def run(class_dir, out, **kw):
        seeds.append(kw["seed"])
        return [], True

    monkeypatch.setattr(command, "run", run)
    return seeds


def test_batch_draws_its_seed_for_out_and_every_later_run_reuses_it(tmp_path, graded_with):
    (tmp_path / "class").mkdir()
    args = ["batch", str(tmp_path / "class"), "--weak-isolation", "--out"]
    for out in ("out", "out", "other"):
        assert cli.main([*args, str(tmp_path / out)]) == 0
    assert cli.main([*args, str(tmp_path / "out"), "--seed", "0"]) == 0  # a regrade at a named seed
    first, again, other, named = graded_with
    assert first == again == int((tmp_path / "out" / FILE).read_text())
    assert PUBLIC_SEED not in (first, other)
    assert other != first and named == 0  # 2**31 values: two draws agree once in two billion


def test_batch_of_a_missing_class_draws_nothing(tmp_path, graded_with):
    assert cli.main(["batch", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    assert not Path(tmp_path / "o").exists() and graded_with == []


def test_a_seed_that_cannot_be_kept_is_said_in_one_line(tmp_path, capsys, monkeypatch):
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "file"))  # a file, not a folder
    assert cli.main(["check", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("grade: cannot ") and "--seed N" in err and err.count("\n") == 1
