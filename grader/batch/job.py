"""One student's job: `grade check` in a subprocess of its own (a fresh process group),
killed with its whole process tree past `--submission-timeout`. It runs wherever the
executor puts it (a thread here, a Dask worker) and returns plain data: the files' text."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from grader.sandbox.kernel import kill_tree

THREAD_ENV = {"GRADER_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "OPENBLAS_NUM_THREADS": "1", "NUMEXPR_NUM_THREADS": "1"}


@dataclass(frozen=True)
class Job:
    id: str
    path: str
    seed: int = 0
    timeout: float = 60.0                 # one call of student code (`grade check --timeout`)
    submission_timeout: float = 1800.0    # the whole `grade check` run
    parts: tuple[str, ...] | None = None  # None: the assignments that `grade check` finds
    gradescope: bool = False              # OUT/gradescope/ID.json (always made, kept in results/)
    command: tuple[str, ...] | None = None  # default: this machine's `python -m grader.cli check`


@dataclass
class Outcome:
    id: str
    error: str = ""                       # empty when graded
    result: str | None = None             # the contract JSON, as text
    html: str | None = None
    gradescope: str | None = None         # also when not graded: it says why, with score 0
    returncode: int | None = None
    seconds: float = 0.0


_running: dict[int, subprocess.Popen] = {}   # pid -> the `grade check` runs in flight here
_lock = threading.Lock()
stopping = threading.Event()


def grade_job(job: Job) -> Outcome:
    """Run `grade check` on one submission in a fresh process group; never raises."""
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="grade-batch-") as tmp:
            outcome = _run_check(job, Path(tmp))
    except Exception as e:  # noqa: BLE001 - anything here is a failure of this one job
        outcome = Outcome(job.id, error=f"the batch could not run the grader ({type(e).__name__}: {e})")
    outcome.seconds = round(time.monotonic() - started, 2)
    return outcome


def _run_check(job: Job, tmp: Path) -> Outcome:
    files = {"result": tmp / "result.json", "html": tmp / "report.html", "gradescope": tmp / "gradescope.json"}
    command = list(job.command or (sys.executable, "-m", "grader.cli", "check"))
    command += [job.path, "--json", str(files["result"]), "--html", str(files["html"]),
                "--gradescope", str(files["gradescope"]),
                "--seed", str(job.seed), "--timeout", f"{job.timeout:g}",
                *(("--parts", *job.parts) if job.parts else ())]
    env = {**os.environ, **THREAD_ENV, "NO_COLOR": "1"}
    with _lock:
        if stopping.is_set():
            return Outcome(job.id, error="interrupted before it started")
        proc = subprocess.Popen(command, cwd=tmp, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, errors="replace", start_new_session=True)
        _running[proc.pid] = proc
    try:
        try:
            _, stderr = proc.communicate(timeout=job.submission_timeout)
        except subprocess.TimeoutExpired:
            kill_tree(proc.pid)
            proc.communicate()
            return Outcome(job.id, returncode=proc.returncode,
                           error=f"grading took longer than {job.submission_timeout:g} s and was stopped")
    finally:
        with _lock:
            _running.pop(proc.pid, None)
    code = proc.returncode
    result = _read(files["result"])
    if code in (0, 1) and result is not None and _is_contract(result):
        return Outcome(job.id, result=result, html=_read(files["html"]), gradescope=_read(files["gradescope"]),
                       returncode=code)
    gradescope = _read(files["gradescope"]) if code == 2 else None  # the grader's own reason, score 0
    return Outcome(job.id, returncode=code, error=_why(code, stderr, stopping.is_set()), gradescope=gradescope)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def _is_contract(text: str) -> bool:
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return isinstance(data, dict) and isinstance(data.get("tests"), list) and isinstance(data.get("parts"), list)


def _why(code: int | None, stderr: str, stopping: bool) -> str:
    """One line on why `grade check` gave no result."""
    if stopping:
        return "interrupted while grading"
    lines = [line.strip() for line in (stderr or "").splitlines() if line.strip()]
    said = [line for line in lines if line.startswith("grade:") and not line.startswith("grade: note:")]
    if code == 2 and said:
        return said[-1].removeprefix("grade:").strip()
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        return f"the grader was killed by signal {name}"
    last = lines[-1] if lines else "no message"
    return f"the grader failed (exit status {code}): {last}"[:500]


def stop_running() -> None:
    """After Ctrl-C: start nothing more and kill what is in flight in this process.
    A process already reaped is left alone: its pid may belong to another by now."""
    with _lock:
        stopping.set()
        for proc in list(_running.values()):
            if proc.returncode is None:
                kill_tree(proc.pid)
