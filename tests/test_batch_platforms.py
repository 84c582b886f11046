"""Issue 29, `grade batch` where courses grade: Moodle's "Download all submissions" in, its
grading worksheet out; reruns that regrade when what decides a verdict changed; a class
folder that is not a class is an error. With test_batch.py's stand-in for `grade check`."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT
from test_batch import GOOD, WRONG, calls, fake, read_csv, run  # noqa: F401 - fake is a fixture

from grader import batch
from grader.batch import verdict, worksheet
from grader.batch.discovery import ClassError
from grader.cli import main

NAMES = [
    "Zoé Müller",
    "Jérôme Lefèvre",
    "Anaïs Dubois",
    "François Ñúñez",
    "Chloé Garçon",
    "Léa Bénard",
    "Noël Çelik",
    "Inès Håkansson",
    "Maël Østergaard",
    "Björn Žukauskas",
]
HEADER = [
    "Identifier",
    "Full name",
    "Email address",
    "Status",
    "Grade",
    "Maximum grade",
    "Grade can be changed",
    "Last modified (submission)",
    "Last modified (grade)",
    "Feedback comments",
]


def moodle_zip(path: Path, students: dict[str, tuple[int, str | None]]) -> Path:
    """Moodle's download: `Full Name_ID_assignsubmission_file_/answers.py` per student
    (a student of code None has handed in online text only)."""
    with zipfile.ZipFile(path, "w") as z:
        for name, (pid, code) in students.items():
            folder = f"{name}_{pid}_assignsubmission"
            z.writestr(f"{folder}_onlinetext_/onlinetext.html", "<p>report</p>")
            if code is not None:
                z.writestr(f"{folder}_file_/answers.py", code)
    return path


def moodle_worksheet(path: Path, rows: list[tuple[int, str]], maximum: str = "20,00") -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for pid, name in rows:
        writer.writerow(
            [
                f"Participant {pid}",
                name,
                f"{pid}@example.org",
                "Submitted for grading",
                "",
                maximum,
                "Yes",
                "Monday, 6 October 2025, 9:00 AM",
                "-",
                "",
            ]
        )
    path.write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode())
    return path


def test_moodle_class_round_trips_into_its_worksheet(fake, tmp_path, capsys):  # noqa: F811
    students = {name: (100 + k, GOOD if k % 3 else WRONG) for k, name in enumerate(NAMES)}
    students["Sans Rendu"] = (999, None)  # online text only: a submission with no code
    download = moodle_zip(tmp_path / "TP1-Téléchargement.zip", students)
    listed = [(pid, name) for name, (pid, _) in students.items()] + [(555, "Absent Élève")]
    sheet = moodle_worksheet(tmp_path / "Grades-RDFIA.csv", listed)
    out = tmp_path / "out"
    rows, finished = run(fake, download, out)
    assert finished and len(calls(fake)) == 11
    # named by the student, the participant id kept
    assert {r.id for r in rows} == {f"{n}_{pid}" for n, (pid, _) in students.items()}
    grades = read_csv(out)
    assert grades["Sans Rendu_999"]["status"] == batch.FAILED

    summary = worksheet.main(sheet, download, rows, out)
    assert "10 grades filled" in summary and "Participant 555 (Absent Élève)" in summary
    raw = (out / "moodle-Grades-RDFIA.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    filled = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert list(filled[0]) == HEADER
    by_pid = {r["Identifier"].split()[-1]: r for r in filled}
    for name, (pid, code) in students.items():
        row, graded = by_pid[str(pid)], grades[f"{name}_{pid}"]
        assert row["Full name"] == name
        if code is None:
            assert row["Grade"] == ""
            assert row["Feedback comments"].startswith("Not graded automatically")
            continue
        expected = float(graded["total"]) / float(graded["max"]) * 20
        assert float(row["Grade"].replace(",", ".")) == pytest.approx(expected, abs=0.005)
        assert "," in row["Grade"]  # the worksheet's decimal separator
        total = f"Autograder: {graded['total']} / {graded['max']} points"
        assert row["Feedback comments"].startswith(total)
    assert by_pid["555"]["Grade"] == ""


def test_worksheet_matches_on_the_identifier_never_the_name(tmp_path):
    from grader.batch.moodle import Student
    from grader.results import Graded, PartResult, Report, TestResult

    report = Report(
        "x",
        0,
        [PartResult("answers", True)],
        [TestResult("answers::a", "answers", "a", "passed", 3.0, 4.0)],
    )
    rows = [Graded("Jean Dupont_7", "e", report=report)]
    students = {"Jean Dupont_7": Student("Jean Dupont_7", "Jean Dupont", "7")}
    text = "Identifier,Full name,Grade,Maximum grade\nParticipant 8,Jean Dupont,,100.00\n"
    filled, found = worksheet.fill(text, rows, students)
    assert found == {
        "filled": 0,
        "missing": ["Participant 8 (Jean Dupont)"],
        "unmatched": ["Jean Dupont_7"],
    }
    assert "75" not in filled and filled.splitlines()[0].endswith("Feedback comments")
    filled, found = worksheet.fill(text.replace("Participant 8", "Participant 7"), rows, students)
    assert found["filled"] == 1 and "75.00" in filled


def test_a_formula_in_the_feedback_is_written_as_text():
    assert worksheet.cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert worksheet.cell("Autograder") == "Autograder"


def test_a_rubric_change_regrades_everyone(fake, tmp_path, monkeypatch):  # noqa: F811
    class_dir = tmp_path / "class"
    for sid, code in {"alice": GOOD, "bob": WRONG, "carol": GOOD}.items():
        (class_dir / sid).mkdir(parents=True)
        (class_dir / sid / "answers.py").write_text(code)
    rubric = tmp_path / "test_answers.py"
    rubric.write_text("points = 2\n")
    monkeypatch.setattr(verdict, "sources", lambda: [rubric])
    out, log = tmp_path / "out", io.StringIO()
    run(fake, class_dir, out)
    batch.run(class_dir, out, parts=("answers",), command=fake["command"], stream=log)
    assert len(calls(fake)) == 3 and "3 kept, 0 regraded" in log.getvalue()

    rubric.write_text("points = 3\n")  # a rubric fix
    log = io.StringIO()
    rows, _ = batch.run(class_dir, out, parts=("answers",), command=fake["command"], stream=log)
    assert len(calls(fake)) == 6 and not any(r.resumed for r in rows)
    assert "0 kept, 3 regraded: 3 rubric changed" in log.getvalue()

    (class_dir / "bob" / "answers.py").write_text(GOOD)
    log = io.StringIO()
    batch.run(class_dir, out, parts=("answers",), command=fake["command"], stream=log, timeout=30.0)
    assert "0 kept, 3 regraded: 2 time limit changed, 1 submission changed" in log.getvalue()
    log = io.StringIO()
    batch.run(
        class_dir,
        out,
        parts=("answers",),
        command=fake["command"],
        stream=log,
        timeout=30.0,
        force=True,
    )
    assert len(calls(fake)) == 12 and "0 kept, 3 regraded: 3 forced" in log.getvalue()

    monkeypatch.setattr(verdict, "version", lambda: "0.2.0")  # an upgrade of the grader
    log = io.StringIO()
    batch.run(class_dir, out, parts=("answers",), command=fake["command"], stream=log, timeout=30.0)
    assert len(calls(fake)) == 15 and "0 kept, 3 regraded: 3 grader changed" in log.getvalue()


@pytest.mark.parametrize(
    "files, found",
    [
        ({}, "nothing"),
        ({"notes.txt": "x"}, "only notes.txt"),
        ({"tp1_manual.py": "x", "answers.py": "x"}, "answers.py, tp1_manual.py at its top"),
        (
            {"1_ab_Intro_to_NNs.ipynb": "{}", "1_cd_CNNs.ipynb": "{}"},
            "1_ab_Intro_to_NNs.ipynb, 1_cd_CNNs.ipynb",
        ),
    ],
)
def test_a_folder_that_is_not_a_class_exits_2(tmp_path, capsys, files, found):
    class_dir = tmp_path / "class"
    class_dir.mkdir()
    for name, text in files.items():
        (class_dir / name).write_text(text)
    with pytest.raises(ClassError):
        batch.run(
            class_dir,
            tmp_path / "out",
            parts=("answers",),
            command=("false",),
            stream=io.StringIO(),
        )
    assert main(["batch", str(class_dir), "--out", str(tmp_path / "out"), "--weak-isolation"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and found in err
    assert "one sub-folder, .zip or .ipynb per student" in err


def test_notebooks_of_a_class_are_students_not_loose_parts(tmp_path):
    from grader.batch.discovery import read_class

    class_dir = tmp_path / "class"
    class_dir.mkdir()
    for name in ("1_ab_Intro_to_NNs_alice.ipynb", "1_ab_Intro_to_NNs_bob.ipynb"):
        (class_dir / name).write_text("{}")
    ids = [sid for sid, _ in read_class(class_dir, tmp_path / "out")]
    assert ids == ["1_ab_Intro_to_NNs_alice", "1_ab_Intro_to_NNs_bob"]


def test_moodle_folder_of_flat_files_and_uploaded_zips(tmp_path):
    """Unzipped, without "Download submissions in folders": files named after the student;
    a student who uploaded one zip is graded as that zip."""
    from grader.batch.discovery import read_class

    download = tmp_path / "download"
    download.mkdir()
    (download / "Zoé Müller_100_assignsubmission_file_answers.py").write_text(GOOD)
    (download / "Zoé Müller_100_assignsubmission_onlinetext_onlinetext.html").write_text("<p>x</p>")
    with zipfile.ZipFile(download / "Jean Dupont_101_assignsubmission_file_tp.zip", "w") as z:
        z.writestr("tp/answers.py", GOOD)
    entries = dict(read_class(download, tmp_path / "out"))
    assert sorted(entries) == ["Jean Dupont_101", "Zoé Müller_100"]
    assert entries["Jean Dupont_101"].suffix == ".zip"
    assert zipfile.is_zipfile(entries["Jean Dupont_101"])
    assert (entries["Zoé Müller_100"] / "answers.py").read_text() == GOOD


def test_grade_batch_takes_moodle_in_and_gives_moodle_out(tmp_path, capsys):
    """The command, grading for real (the `answers` part of two students), then again with
    --force; a worksheet without a Moodle class is refused before any grading."""
    answers = (ROOT / "reference" / "answers.py").read_text()
    download = moodle_zip(
        tmp_path / "download.zip", {"Zoé Müller": (100, answers), "Jean Dupont": (101, WRONG)}
    )
    sheet = moodle_worksheet(
        tmp_path / "Grades.csv", [(100, "Zoé Müller"), (101, "Jean Dupont")], maximum="20.00"
    )
    out = tmp_path / "out"
    argv = [
        "batch",
        str(download),
        "--out",
        str(out),
        "--parts",
        "answers",
        "--jobs",
        "1",
        "--weak-isolation",
        "--moodle-worksheet",
        str(sheet),
    ]
    assert main(argv) == 0
    assert "2 grades filled" in capsys.readouterr().out
    rows = {
        r["Identifier"]: r
        for r in csv.DictReader(
            io.StringIO((out / "moodle-Grades.csv").read_text(encoding="utf-8-sig"))
        )
    }
    assert (
        rows["Participant 100"]["Grade"] == "20.00" and rows["Participant 101"]["Grade"] == "0.00"
    )
    assert read_csv(out)["Zoé Müller_100"]["total"] == read_csv(out)["Zoé Müller_100"]["max"]
    assert main([*argv, "--force"]) == 0
    assert "0 kept, 2 regraded: 2 forced" in capsys.readouterr().out
    plain = tmp_path / "plain"
    (plain / "alice").mkdir(parents=True)
    assert main(["batch", str(plain), "--out", str(out), "--moodle-worksheet", str(sheet)]) == 2
    assert "Download all submissions" in capsys.readouterr().err
