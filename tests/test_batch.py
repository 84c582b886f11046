"""Issue 8, `grade batch`: a class graded in parallel, one row a student, a broken
submission never stops the batch, a rerun resumes, Ctrl-C loses only what was in flight,
and the same jobs run on a Dask cluster.

Most tests drive `grader.batch.run` with a stand-in for `grade check` (FAKE below, a
Python script that answers like the grader according to the submission's content), so
that they are fast and exercise every way a grading run can end. One test runs the real
`grade batch` and compares it with the real `grade check`, on the cheapest part there is.
"""

from __future__ import annotations

import concurrent.futures as cf
import csv
import io
import json
import os
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest
from conftest import REFERENCE, ROOT

from grader import batch
from grader.labs.rdfia import LAB

FAKE = r'''
"""A stand-in for `grade check`: the verdict follows the submission's content."""
import argparse, json, os, pathlib, signal, subprocess, sys
p = argparse.ArgumentParser()
p.add_argument("path"); p.add_argument("--json"); p.add_argument("--html"); p.add_argument("--gradescope")
p.add_argument("--seed", type=int); p.add_argument("--timeout"); p.add_argument("--parts", nargs="+")
a = p.parse_args()
path = pathlib.Path(a.path)
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(f"{path.name} {a.seed} {' '.join(a.parts)} threads={os.environ.get('OMP_NUM_THREADS')}\n")
if path.suffix == ".zip":  # as the grader: the reason, and score 0 where Gradescope shows it
    if a.gradescope:
        pathlib.Path(a.gradescope).write_text(json.dumps({"score": 0, "output": "not a readable zip file"}))
    print(f"grade: {path} is not a readable zip file", file=sys.stderr); sys.exit(2)
code = (path / "answers.py").read_text()
if "HANG" in code:  # a grader that never ends, with a helper in a session of its own
    child = subprocess.Popen([sys.executable, "-c", "import signal; signal.pause()"], start_new_session=True)
    pathlib.Path(os.environ["FAKE_LOG"]).with_name(path.name + ".pid").write_text(str(child.pid))
    signal.pause()
if "CRASH" in code:  # an internal error: exit 1 like failed checks, but no JSON
    raise RuntimeError("the rubric could not run")
if "ABORT" in code:
    os.abort()
good = "GOOD" in code
tests = [{"id": "answers::a", "part": "answers", "name": "a", "status": "passed", "score": 1.0, "max_score": 1.0,
          "message": "", "diagnosis": None},
         {"id": "answers::b", "part": "answers", "name": "b", "status": "passed" if good else "failed",
          "score": 2.0 if good else 0.0, "max_score": 2.0, "message": "" if good else "expected 2, got 3",
          "diagnosis": None if good else "an off-by-one in the size formula"}]
result = {"submission": path.name, "score": sum(t["score"] for t in tests), "max_score": 3.0,
          "parts": [{"part": q, "found": q == "answers",
                     "score": sum(t["score"] for t in tests) if q == "answers" else 0,
                     "max_score": 3.0 if q == "answers" else 0} for q in a.parts], "tests": tests}
pathlib.Path(a.json).write_text(json.dumps(result))
pathlib.Path(a.html).write_text(f"<!DOCTYPE html><p>{path.name}</p>")
if a.gradescope:
    pathlib.Path(a.gradescope).write_text(json.dumps({"score": result["score"]}))
print("checks:", result["score"])
sys.exit(0 if good else 1)
'''


@pytest.fixture
def fake(tmp_path, monkeypatch):
    script = tmp_path / "fake_grade_check.py"
    script.write_text(FAKE)
    log = tmp_path / "log" / "calls.txt"
    log.parent.mkdir()
    log.touch()
    monkeypatch.setenv("FAKE_LOG", str(log))
    return {"command": (sys.executable, str(script)), "log": log}


def calls(fake) -> list[str]:
    return [line.split()[0] for line in fake["log"].read_text().splitlines()]


def make_class(root: Path, students: dict[str, str | bytes]) -> Path:
    """`{id: answers.py text}` as folders; `{id.zip: bytes}` as files."""
    root.mkdir()
    for name, content in students.items():
        if isinstance(content, bytes):
            (root / name).write_bytes(content)
        else:
            (root / name).mkdir()
            (root / name / "answers.py").write_text(content)
    return root


GOOD = "X = 1  # GOOD\n"
GOOD_REFORMATTED = "# my own work\nX   =   1   # GOOD, honestly\n\n"
WRONG = "X = 2\n"


def read_csv(out: Path) -> dict[str, dict]:
    return {
        row["id"]: row
        for row in csv.DictReader(io.StringIO((out / "grades.csv").read_text(encoding="utf-8-sig")))
    }


def run(fake, class_dir, out, **kw):
    kw.setdefault("jobs", 2)
    return batch.run(
        class_dir, out, parts=("answers",), command=fake["command"], stream=io.StringIO(), **kw
    )


def _dead(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    with open(f"/proc/{pid}/stat") as f:  # a zombie waiting for init counts as dead
        return f.read().rsplit(")", 1)[1].split()[0] == "Z"


def test_one_broken_submission_never_stops_the_batch(fake, tmp_path):
    class_dir = make_class(
        tmp_path / "class",
        {
            "alice": GOOD,
            "bob": GOOD_REFORMATTED,
            "carol": WRONG,
            "crash": "CRASH",
            "abort": "ABORT",
            "hang": "HANG",
            "broken.zip": b"not a zip",
        },
    )
    out = tmp_path / "out"
    rows, finished = run(fake, class_dir, out, submission_timeout=3, gradescope=True)

    assert finished
    by_id = {r.id: r for r in rows}
    assert sorted(by_id) == ["abort", "alice", "bob", "broken", "carol", "crash", "hang"]
    assert [by_id[i].report.score for i in ("alice", "bob", "carol")] == [3, 3, 1]
    assert "not a readable zip file" in by_id["broken"].error
    assert (
        "exit status 1" in by_id["crash"].error
        and "the rubric could not run" in by_id["crash"].error
    )
    assert "signal SIGABRT" in by_id["abort"].error
    assert "longer than 3 s" in by_id["hang"].error
    hung_child = int((fake["log"].with_name("hang.pid")).read_text())
    assert _dead(hung_child), "a hung grader's whole process tree is killed"

    grades = read_csv(out)
    assert list(next(iter(grades.values()))) == [
        "id",
        "total",
        "max",
        *("answers",),
        "status",
        "error",
        "seed",
    ]
    assert grades["alice"] | {"error": ""} == {
        "id": "alice",
        "total": "3",
        "max": "3",
        "answers": "3",
        "status": "ok",
        "error": "",
        "seed": "0",
    }
    assert {i: grades[i]["status"] for i in grades} == {
        "alice": "ok",
        "bob": "ok",
        "carol": "ok",
        "abort": batch.FAILED,
        "broken": batch.FAILED,
        "crash": batch.FAILED,
        "hang": batch.FAILED,
    }
    assert grades["broken"]["total"] == "" and "zip" in grades["broken"]["error"]
    assert (
        (out / "grades.csv").read_bytes().startswith("\ufeffid,".encode())
    )  # Excel reads UTF-8 by its BOM
    assert json.loads((out / "gradescope" / "broken.json").read_text()) == {
        "score": 0,
        "output": "not a readable zip file",
    }
    assert not (out / "gradescope" / "crash.json").exists()
    for sid in ("alice", "bob", "carol"):
        assert json.loads((out / "results" / f"{sid}.json").read_text())["tests"]
        assert (out / "reports" / f"{sid}.html").exists() and (
            out / "gradescope" / f"{sid}.json"
        ).exists()
    assert not (out / "results" / "hang.json").exists()
    assert json.loads((out / "results" / "hang.meta.json").read_text())["status"] == batch.FAILED
    assert all("threads=1" in line for line in fake["log"].read_text().splitlines())

    summary = (out / "summary.html").read_text()
    assert (
        summary.startswith("<!DOCTYPE html>")
        and "http://" not in summary
        and "https://" not in summary
    )
    assert "<svg" in summary and "an off-by-one in the size formula" in summary
    assert "answers::b" in summary and "alice, bob" in summary  # identical once normalised
    assert "bob, carol" not in summary and "alice, carol" not in summary


def test_the_most_work_is_graded_first(fake, tmp_path):
    """With one job, the order the batch grades in: the submissions that implement the most
    functions first, by id among equals, so that parallel jobs end together."""
    stub = "def f():\n    raise NotImplementedError\n"
    class_dir = make_class(
        tmp_path / "class",
        {
            "a_stubs": stub * 3,
            "b_one": "def f():\n    return 1\n",
            "c_two": "def f():\n    return 1\ndef g():\n    return 2\n",
            "d_none": GOOD,
            "e_one": "def h(x):\n    return x\n",
        },
    )
    run(fake, class_dir, tmp_path / "out", jobs=1)
    assert calls(fake) == ["c_two", "b_one", "e_one", "a_stubs", "d_none"]


def test_rerun_skips_unchanged_and_regrades_what_changed(fake, tmp_path):
    class_dir = make_class(tmp_path / "class", {"alice": GOOD, "bob": WRONG, "crash": "CRASH"})
    out = tmp_path / "out"
    run(fake, class_dir, out)
    assert sorted(calls(fake)) == ["alice", "bob", "crash"]
    stamp = (out / "results" / "alice.json").stat().st_mtime_ns
    (out / "results" / ".alice.json.1234.tmp").write_text("{half")  # left by a killed run

    rows, finished = run(fake, class_dir, out)
    assert finished and sorted(calls(fake)) == [
        "alice",
        "bob",
        "crash",
        "crash",
    ]  # only the failure again
    assert {r.id: r.resumed for r in rows} == {"alice": True, "bob": True, "crash": False}
    assert (out / "results" / "alice.json").stat().st_mtime_ns == stamp
    assert not list((out / "results").glob(".*.tmp"))
    assert read_csv(out)["bob"]["total"] == "1"

    (class_dir / "bob" / "answers.py").write_text(GOOD)  # resubmitted
    (class_dir / "alice" / "answers.py").write_text("CRASH")  # replaced by a broken one
    run(fake, class_dir, out)
    assert sorted(calls(fake)[4:]) == ["alice", "bob", "crash"]
    grades = read_csv(out)
    assert grades["bob"]["total"] == "3" and grades["alice"]["status"] == batch.FAILED
    assert not (out / "results" / "alice.json").exists(), (
        "no stale result outlives a failed regrade"
    )

    run(fake, class_dir, out, seed=7)  # another seed: everything again
    assert sorted(calls(fake)[7:]) == ["alice", "bob", "crash"]


@pytest.mark.parametrize(
    "damage",
    [
        {"meta": "[]"},
        {"result": '{"tests": [{"id": 1}]}'},
        {"result": "[]"},
        {"result": '{"tests": [], "parts": [{"found": true}]}'},
    ],
)
def test_a_damaged_stored_result_is_graded_again(fake, tmp_path, damage):
    class_dir = make_class(tmp_path / "class", {"alice": GOOD, "bob": WRONG})
    out = tmp_path / "out"
    run(fake, class_dir, out)
    for kind, text in damage.items():
        (out / "results" / ("alice.meta.json" if kind == "meta" else "alice.json")).write_text(text)
    rows, finished = run(fake, class_dir, out)
    assert finished and sorted(calls(fake)) == ["alice", "alice", "bob"]
    assert {r.id: r.resumed for r in rows} == {"alice": False, "bob": True}
    assert read_csv(out)["alice"]["total"] == "3"


def test_rerun_with_gradescope_writes_it_without_regrading(fake, tmp_path):
    class_dir = make_class(tmp_path / "class", {"alice": GOOD, "bob": WRONG})
    out = tmp_path / "out"
    run(fake, class_dir, out)
    assert not (out / "gradescope").exists()

    def files():
        return {
            p.relative_to(out).as_posix(): p.read_bytes()
            for p in out.rglob("*")
            if p.is_file() and p.name != "summary.html"
        }  # the summary says when it was made

    before = files()
    rows, finished = run(fake, class_dir, out, gradescope=True)
    assert finished and sorted(calls(fake)) == ["alice", "bob"] and all(r.resumed for r in rows)
    assert json.loads((out / "gradescope" / "alice.json").read_text()) == {"score": 3.0}
    assert json.loads((out / "gradescope" / "bob.json").read_text()) == {"score": 1.0}
    after = files()
    assert {k: v for k, v in after.items() if not k.startswith("gradescope/")} == before


class InterruptingExecutor(cf.ThreadPoolExecutor):
    """Threads, except that the job of `trigger` raises KeyboardInterrupt in the main
    thread (as Ctrl-C would) once `ready()` is true."""

    def __init__(self, trigger: str, ready):
        super().__init__(max_workers=4)
        self.trigger, self.ready = trigger, ready

    def submit(self, fn, job):
        if job.id != self.trigger:
            return super().submit(fn, job)
        future = cf.Future()

        def fire():
            deadline = time.monotonic() + 60
            while not self.ready() and time.monotonic() < deadline:
                threading.Event().wait(0.02)
            future.set_exception(KeyboardInterrupt())

        threading.Thread(target=fire, daemon=True).start()
        return future


def test_ctrl_c_loses_only_what_was_in_flight(fake, tmp_path):
    class_dir = make_class(
        tmp_path / "class", {"alice": GOOD, "bob": WRONG, "hang": "HANG", "zed": GOOD}
    )
    out = tmp_path / "out"
    pidfile = fake["log"].with_name("hang.pid")
    executor = InterruptingExecutor("zed", lambda: pidfile.exists() and len(calls(fake)) >= 3)
    rows, finished = run(fake, class_dir, out, executor=executor)
    executor.shutdown(wait=True)  # the hung grader was killed, so its thread ends

    assert not finished
    assert _dead(int(pidfile.read_text()))
    done = {r.id for r in rows}
    assert done <= {"alice", "bob"} and "hang" not in done and "zed" not in done
    assert set(read_csv(out)) == done
    for sid in ("alice", "bob"):  # each either fully saved or not at all
        meta = out / "results" / f"{sid}.meta.json"
        assert meta.exists() == (sid in done) and (out / "results" / f"{sid}.json").exists() == (
            sid in done
        )
    assert not (out / "results" / "hang.meta.json").exists() and not list(out.glob("*/.*.tmp"))

    before = len(calls(fake))
    (class_dir / "hang" / "answers.py").write_text(GOOD)
    rows, finished = run(fake, class_dir, out)
    assert finished and {r.id for r in rows} == {"alice", "bob", "hang", "zed"}
    assert sorted(calls(fake)[before:]) == sorted({"alice", "bob", "hang", "zed"} - done)


def test_ids_outputs_and_fingerprints(tmp_path):
    class_dir = tmp_path / "class"
    class_dir.mkdir()
    (class_dir / "ann").mkdir()
    (class_dir / "ann.zip").write_bytes(b"")
    (class_dir / "ben.ipynb").write_text("{}")
    (class_dir / "notes.txt").write_text("not a submission")
    (class_dir / ".DS_Store").write_text("")
    assert [(i, p.name) for i, p in batch.discover(class_dir)] == [
        ("ann", "ann"),
        ("ann", "ann.zip"),
        ("ben", "ben.ipynb"),
    ]
    from grader.worker.loader import Chunk

    a = [Chunk("a.py", "def f(x):\n    # comment\n    return x+1\n")]
    b = [Chunk("nb, cell 1", "\n\ndef f( x ):\n  return x + 1  # same\n")]
    c = [Chunk("a.py", "def f(x):\n    return x + 2\n")]
    assert batch.fingerprint(a) == batch.fingerprint(b) != batch.fingerprint(c)


def test_dask_cluster_runs_the_same_jobs(fake, tmp_path):
    distributed = pytest.importorskip("distributed")
    class_dir = make_class(tmp_path / "class", {"alice": GOOD, "bob": WRONG, "broken.zip": b"PK"})
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        client, executor = batch.dask_executor(cluster.scheduler_address)
        with client:
            rows, finished = run(fake, class_dir, tmp_path / "dask", executor=executor)
    local, _ = run(fake, class_dir, tmp_path / "threads")
    assert finished
    summary = lambda rs: {r.id: (r.status, r.report.score if r.report else None) for r in rs}  # noqa: E731
    assert (
        summary(rows)
        == summary(local)
        == {"alice": ("ok", 3.0), "bob": ("ok", 1.0), "broken": (batch.FAILED, None)}
    )
    assert (tmp_path / "dask" / "grades.csv").read_text() == (
        tmp_path / "threads" / "grades.csv"
    ).read_text()


# -- the real grader -----------------------------------------------------------------------
def _cheapest_part() -> str | None:
    """A part whose rubric exists, cheapest first (the rubric is being written)."""
    for part in ("answers", "tp1_manual"):
        if any(f'@check("{part}::' in f.read_text() for f in LAB.rubric.glob("test_*.py")):
            return part
    return None


PART = _cheapest_part()


@pytest.mark.skipif(
    PART != "answers" or not (REFERENCE / "answers.py").exists(),
    reason="needs the answers rubric and reference/answers.py",
)
def test_real_batch_gives_the_verdict_of_grade_check(tmp_path):
    reference = (REFERENCE / "answers.py").read_text()
    class_dir = make_class(tmp_path / "class", {"ref": reference})
    zipped = class_dir / "zipped.zip"
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("zipped/answers.py", "# my own work\n" + reference)
    (class_dir / "notjson.ipynb").write_text("{not json")
    out = tmp_path / "out"
    check = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "grader.cli",
            "check",
            str(zipped),
            "--json",
            str(tmp_path / "zipped.json"),
            "--html",
            str(tmp_path / "zipped.html"),
            "--parts",
            "answers",
            "--seed",
            "5",
        ],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader.cli",
            "batch",
            str(class_dir),
            "--out",
            str(out),
            "--jobs",
            "2",
            "--parts",
            "answers",
            "--gradescope",
            "--seed",
            "5",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert check.wait(timeout=300) in (0, 1), check.stderr.read()
    assert run.returncode == 1, run.stdout + run.stderr  # one failed to grade
    assert "notjson: failed-to-grade" in run.stdout and "not a readable notebook" in run.stdout

    direct = json.loads((tmp_path / "zipped.json").read_text())
    assert json.loads((out / "results" / "zipped.json").read_text()) == direct
    grades = read_csv(out)
    assert (
        grades["ref"]["total"]
        == grades["ref"]["max"]
        == grades["zipped"]["total"]
        == f"{direct['score']:g}"
    )
    assert grades["notjson"]["status"] == batch.FAILED and grades["notjson"]["total"] == ""
    told = json.loads((out / "gradescope" / "notjson.json").read_text())  # the student sees why
    assert told["score"] == 0 and "not a readable notebook" in told["output"]
    assert list(grades["ref"]) == ["id", "total", "max", "answers", "status", "error", "seed"]
    assert grades["ref"]["seed"] == grades["notjson"]["seed"] == "5" == str(direct["seed"])
    summary = (out / "summary.html").read_text()
    assert "ref, zipped" in summary and "https://" not in summary


def test_one_zygote_forks_the_grading_processes_and_ends_with_them():
    """The grading processes of a batch are forked by the zygote they share (a process that
    never ran student code); closing them at the end of a run also ends the zygote."""
    from grader.batch import job

    servers = [job.Server() for _ in range(2)]
    zygote = job._zygote
    try:
        parents = [
            int(Path(f"/proc/{s.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
            for s in servers
        ]
        assert parents == [zygote.proc.pid] * 2
        assert all(s.proc.poll() is None for s in servers)
        # Forked after the lab's imports: matplotlib is loaded (shared) before any plot is drawn.
        assert all("ft2font" in Path(f"/proc/{s.proc.pid}/maps").read_text() for s in servers)
    finally:
        job.close_servers()
    assert job._zygote is None and zygote.proc.poll() is not None
    assert [s.proc.returncode for s in servers] == [
        0,
        0,
    ]  # each ended its loop at the end of its input


def test_cli_reports_bad_arguments(tmp_path):
    from grader.cli import main, parser

    args = parser().parse_args(["batch", "somewhere", "--out", "o"])
    assert (
        args.jobs is None
        and args.parts is None
        and args.tp is None
        and not args.gradescope
        and args.scheduler is None
    )
    assert main(["batch", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    assert ROOT.joinpath("grader", "render", "templates", "summary.html.j2").exists()
