"""One student's job: its submission graded as `grade check` grades it (`grader.api.grade`
through `grader.commands.check.run`), killed with its whole process tree past
`--submission-timeout`. By default it runs in the calling thread's long-lived grading
process (`grader.batch.server`: torch, pytest and the rubric loaded once, a fresh sandboxed
worker per student), started at the thread's first job and replaced after a crash or a
timeout. The grading processes of one process share one zygote, which forks them and
their workers; `Job.command` runs that command instead, in a subprocess of its own per student.
It runs wherever the executor puts it (a thread here, a Dask worker, which keeps its
grading processes warm from task to task) and returns plain data: the files' text."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from grader.api import Options
from grader.sandbox.kernel import kill_tree

THREAD_ENV = {
    "GRADER_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}


@dataclass(frozen=True)
class Job:
    id: str
    path: str
    seed: int = 0
    timeout: float = 60.0  # one call of student code (`grade check --timeout`)
    submission_timeout: float = 1800.0  # the whole `grade check` run
    parts: tuple[str, ...] | None = None  # None: the assignments that `grade check` finds
    gradescope: bool = False  # OUT/gradescope/ID.json (always made, kept in results/)
    command: tuple[str, ...] | None = None  # default: this machine's `python -m grader.cli check`

    @property
    def options(self) -> Options:
        return Options(seed=self.seed, parts=self.parts, timeout=self.timeout)


@dataclass
class Outcome:
    id: str
    error: str = ""  # empty when graded
    result: str | None = None  # the contract JSON, as text
    html: str | None = None
    gradescope: str | None = None  # also when not graded: it says why, with score 0
    returncode: int | None = None
    seconds: float = 0.0


_running: dict[int, subprocess.Popen] = {}  # pid -> the `grade check` runs in flight here
_servers: list[Server] = []  # the long-lived grading processes of this process
_zygote = None  # the zygote they share, started with the first
_local = threading.local()  # each executor thread's own grading process
_lock = threading.Lock()
stopping = threading.Event()


def grade_job(job: Job) -> Outcome:
    """Run `grade check` on one submission in a fresh process group; never raises."""
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="grade-batch-") as tmp:
            outcome = _run_check(job, Path(tmp))
    except Exception as e:  # noqa: BLE001 - anything here is a failure of this one job
        outcome = Outcome(
            job.id, error=f"the batch could not run the grader ({type(e).__name__}: {e})"
        )
    outcome.seconds = round(time.monotonic() - started, 2)
    return outcome


def _run_check(job: Job, tmp: Path) -> Outcome:
    files = {
        "json": tmp / "result.json",
        "html": tmp / "report.html",
        "gradescope": tmp / "gradescope.json",
    }
    try:
        if job.command:
            code, stderr = _in_subprocess(
                job,
                [
                    job.path,
                    *(a for name, path in files.items() for a in (f"--{name}", str(path))),
                    *_arguments(job.options),
                ],
                tmp,
            )
        else:
            request = {
                "path": job.path,
                "options": job.options.to_dict(),
                "files": {name: str(path) for name, path in files.items()},
            }
            code, stderr = _warm(job, request, tmp)
    except _Stopping:
        return Outcome(job.id, error="interrupted before it started")
    if code is None:
        return Outcome(
            job.id, error=f"grading took longer than {job.submission_timeout:g} s and was stopped"
        )
    result = _read(files["json"])
    if code in (0, 1) and result is not None and _is_contract(result):
        return Outcome(
            job.id,
            result=result,
            html=_read(files["html"]),
            gradescope=_read(files["gradescope"]),
            returncode=code,
        )
    gradescope = (
        _read(files["gradescope"]) if code == 2 else None
    )  # the grader's own reason, score 0
    return Outcome(
        job.id, returncode=code, error=_why(code, stderr, stopping.is_set()), gradescope=gradescope
    )


def _arguments(options: Options) -> list[str]:
    """`options` as `grade check`'s arguments (for `Job.command`, a command line of its own)."""
    return [
        "--seed",
        str(options.seed),
        "--timeout",
        f"{options.timeout:g}",
        *(("--parts", *options.parts) if options.parts else ()),
    ]


def _env() -> dict[str, str]:
    return {**os.environ, **THREAD_ENV, "NO_COLOR": "1"}


class _Stopping(Exception):
    """Ctrl-C came before this job started."""


def _in_subprocess(job: Job, argv: list[str], tmp: Path) -> tuple[int | None, str]:
    """`job.command` (a `grade check`) on one submission: (exit status or None past the timeout, stderr)."""
    with _lock:
        if stopping.is_set():
            raise _Stopping
        proc = subprocess.Popen(
            [*job.command, *argv],
            cwd=tmp,
            env=_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        _running[proc.pid] = proc
    try:
        try:
            _, stderr = proc.communicate(timeout=job.submission_timeout)
        except subprocess.TimeoutExpired:
            kill_tree(proc.pid)
            proc.communicate()
            return None, ""
    finally:
        with _lock:
            _running.pop(proc.pid, None)
    return proc.returncode, stderr


def _warm(job: Job, request: dict, tmp: Path) -> tuple[int | None, str]:
    """The same on this thread's long-lived grading process (started at its first job)."""
    server = getattr(_local, "server", None)
    if server is None or server.proc.poll() is not None:
        with _lock:
            if stopping.is_set():
                raise _Stopping
        server = _local.server = Server()
    with _lock:
        if stopping.is_set():
            raise _Stopping
        _running[server.proc.pid] = server.proc
    try:
        return server.grade(request, tmp, job.submission_timeout)
    finally:
        with _lock:
            _running.pop(server.proc.pid, None)


def _shared_zygote():
    """The zygote of this process's grading processes: it has imported torch and the lab's
    slow imports once, and forks each of them and each of their workers (started again
    after a crash)."""
    global _zygote
    from grader.labs import current
    from grader.sandbox import Limits
    from grader.sandbox.zygote import Zygote

    with _lock:
        if _zygote is None or not _zygote.alive:
            if _zygote is not None:
                _zygote.close()
            _zygote = Zygote(Limits(), current().worker_imports)
        return _zygote


def warm_up() -> None:
    """Start the shared zygote now, so that it imports torch while the batch reads the class."""
    _shared_zygote()


class Server:
    """A `python -m grader.batch.server` (torch, pytest and the rubric loaded once), forked by
    the shared zygote: a clean process that never ran student code, so that only pytest and
    the rubric are left to import. Its own channel to the zygote forks its workers."""

    def __init__(self, start_seconds: float = 300.0):
        self.log = tempfile.TemporaryFile()  # its own stderr: the last words of a crash
        zygote = _shared_zygote()
        channel = zygote.connect()  # first: when the zygote is gone, no pipe is left open
        theirs_in, ours_in = os.pipe()
        ours_out, theirs_out = os.pipe()
        try:
            # Forked after the lab's imports (matplotlib): each grading process draws plots.
            self.proc = zygote.spawn(
                {"module": "grader.batch.server", "env": _env(), "cwd": "/", "imports": True},
                [theirs_in, theirs_out, self.log.fileno(), channel.fileno()],
                start_seconds,
            )
        except OSError:
            os.close(ours_in)
            os.close(ours_out)
            raise
        finally:
            os.close(theirs_in)
            os.close(theirs_out)
            channel.close()
        self.proc.stdin, self.proc.stdout = open(ours_in, "wb"), open(ours_out, "rb")
        with _lock:
            _servers.append(self)
        try:
            if self._line(start_seconds) != b"ready":
                self.stop()
        except EOFError:
            self.proc.wait()

    def _line(self, seconds: float) -> bytes | None:
        """The next line it writes, or None when it said nothing in `seconds`; EOFError when it ended."""
        fd, data, deadline = self.proc.stdout.fileno(), b"", time.monotonic() + seconds
        while not data.endswith(b"\n"):
            if not select.select([fd], [], [], max(deadline - time.monotonic(), 0))[0]:
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                raise EOFError
            data += chunk
        return data.rstrip(b"\n")

    def grade(self, request: dict, cwd: Path, seconds: float) -> tuple[int | None, str]:
        """Grade `request` (`grader.batch.server`'s protocol): (exit status, or None past
        `seconds`; stderr)."""
        try:
            self.proc.stdin.write(json.dumps(dict(request, cwd=str(cwd))).encode() + b"\n")
            self.proc.stdin.flush()
        except OSError:
            pass  # it died: said below
        try:
            line = self._line(seconds)
        except EOFError:  # it crashed, or Ctrl-C killed it
            self.stop()
            self.log.seek(0)
            return self.proc.returncode, self.log.read().decode(errors="replace")
        if line is None:  # past the submission's time: it goes, with all it started
            self.stop()
            return None, ""
        reply = json.loads(line)
        return reply["code"], reply["stderr"]

    def stop(self) -> None:
        kill_tree(self.proc.pid)
        self.proc.wait()
        with _lock:
            if self in _servers:
                _servers.remove(self)


def close_servers() -> None:
    """End this process's idle grading processes and their zygote (at the end of a run)."""
    global _zygote
    with _lock:
        servers, zygote, _zygote = list(_servers), _zygote, None
    for server in servers:
        server.proc.stdin.close()  # it ends its loop
        try:
            server.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        server.stop()
    if zygote is not None:
        zygote.close()


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
    return (
        isinstance(data, dict)
        and isinstance(data.get("tests"), list)
        and isinstance(data.get("parts"), list)
    )


def _why(code: int | None, stderr: str, stopping: bool) -> str:
    """One line on why `grade check` gave no result."""
    if stopping:
        return "interrupted while grading"
    lines = [line.strip() for line in (stderr or "").splitlines() if line.strip()]
    said = [
        line for line in lines if line.startswith("grade:") and not line.startswith("grade: note:")
    ]
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
