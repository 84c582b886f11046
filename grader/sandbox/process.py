"""The trusted side of the worker: start it under limits, call it, restart it.

The worker runs `python -m grader.worker` in its own session (so that it and its
children can be killed together), in an empty temporary directory with HOME and
TMPDIR inside it, under an address-space, a process-count, a file-size and a
core-dump limit, and isolated by the operating system as far as the platform allows
(`grader.sandbox.plan` and `child`: namespaces, an allow-list root holding only Python,
the allowed packages, the worker's code and its home, no network, a pids cgroup,
Landlock; `weaknesses()` says what the platform refused). Each call has
a wall-clock limit. A worker that dies, hangs or speaks out of turn is killed with
everything it started; that call raises, and the next call starts a fresh worker that
reloads the parts. A zygote that ends takes its workers: the call in flight gives no
verdict (`GraderFault`), and the next worker starts as a fresh interpreter.
"""
from __future__ import annotations

import json
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass

import grader
from grader.sandbox import child, isolation
from grader.sandbox import plan as plans
from grader.sandbox.kernel import die_with_parent, kill_tree
from grader.worker import wire

# The worker runs the grader code that this process runs (an editable install may map
# `grader` elsewhere for a fresh interpreter); appended, so it never shadows anything.
GRADER_PARENT = os.path.dirname(os.path.dirname(os.path.realpath(grader.__file__)))
WORKER_BOOT = ("import sys; sys.path.append(sys.argv.pop(1)); "
               "from grader.worker.__main__ import main; main(int(sys.argv[1]), int(sys.argv[2]))")


def load_request(part: str, chunks: list[dict], budget: float, course: dict | None, provided: dict | None) -> dict:
    """The worker's `load`: run `chunks` as `part`; `course`: each name of a course helper ->
    its module; `provided`: each global the part is given unless it defines it -> its helper."""
    return {"op": "load", "part": part, "chunks": chunks, "budget": budget,
            "course": course or {}, "provided": provided or {}}


def worker_env(limits, imports: tuple[str, ...] = ()) -> dict[str, str]:
    """A worker's environment but its HOME and TMPDIR: the same for a zygote's. `imports`:
    modules it imports before its first request (`grader.lab.Lab.worker_imports`)."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "PYTHONPATH")}
    env.update(MPLBACKEND="Agg", PYTHONHASHSEED="0", GRADER_THREADS=str(limits.threads),
               OMP_NUM_THREADS=str(limits.threads), PYTHONDONTWRITEBYTECODE="1", GRADER_IMPORTS=" ".join(imports))
    return env


@dataclass(frozen=True)
class Limits:
    call_seconds: float = 60.0        # one call from the rubric
    start_seconds: float = 60.0       # importing torch in a fresh worker
    memory_bytes: int = 6 << 30       # address space of each process; torch alone maps ~1.5 GiB
    tree_bytes: int = 6 << 30         # memory of the worker's whole process tree (memory cgroup)
    processes: int = 256              # RLIMIT_NPROC (not enforced for root)
    file_bytes: int = 64 << 20        # largest file the worker may write
    output_bytes: int = 64 << 10      # captured stdout+stderr kept per call
    reply_bytes: int = 64 << 20       # one answer, all its parts (the largest legitimate: ~5 MB)
    threads: int = 1                  # torch threads in the worker
    isolate: bool = True              # OS isolation where the platform has it (child.py)


class GraderFault(Exception):
    """Something about the call failed that is not the student's doing."""


class StudentFault(Exception):
    """A failure of student code, as the report will tell it."""

    def __init__(self, message: str, where: str | None = None, traceback: str = "", output: str = "",
                 function: str | None = None):
        super().__init__(message)
        self.message, self.where, self.traceback, self.output = message, where, traceback, output
        self.function = function  # the student's function where it happened


class StudentError(StudentFault):
    """Student code raised an exception."""

    def __init__(self, exc_type: str, message: str, **kw):
        super().__init__(f"{exc_type}: {message}" if message else exc_type, **kw)
        self.exc_type = exc_type


class NotImplementedYet(StudentError):
    pass


class NameMissing(StudentFault):
    """The submission does not define a name the rubric calls."""


class WorkerCrashed(StudentFault):
    pass


class CallTimeout(StudentFault):
    pass


def _limit(memory: int, processes: int, file_bytes: int, plan: plans.Plan, report: int):
    """The worker's preexec: isolation, then limits; what held is written to `report`."""
    def limits():
        die_with_parent()
        # RLIMIT_NPROC counts every process of the user, and all workers run as one: only where
        # no pids cgroup holds
        pids = plan.done.get("cgroup") and "pids" in plan.cgroups
        nproc = resource.RLIM_INFINITY if pids else processes
        for which, value in ((resource.RLIMIT_AS, memory), (resource.RLIMIT_NPROC, nproc),
                             (resource.RLIMIT_FSIZE, file_bytes), (resource.RLIMIT_CORE, 0)):
            try:
                resource.setrlimit(which, (value, value))
            except (ValueError, OSError):
                pass  # a platform without that limit keeps its default

    def apply():
        die_with_parent()
        done = child.enter(plan, then=limits)  # may fork an init for a PID namespace: only the worker comes back
        os.write(report, json.dumps(dict(done, enabled=plan.enabled)).encode())
    return apply


def _read_report(fd: int, seconds: float) -> dict:
    """What the worker's preexec recorded (`child.enter`'s steps), read until its exec."""
    data, deadline = b"", time.monotonic() + seconds
    try:
        while len(data) < 1 << 16 and select.select([fd], [], [], max(deadline - time.monotonic(), 0))[0]:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(fd)
    try:
        return json.loads(data)
    except ValueError:
        return {}


def _own_pid_namespace(pid: int) -> bool:
    """Whether the worker started as `pid` runs in a PID namespace of its own."""
    try:
        return os.readlink(f"/proc/{pid}/ns/pid_for_children") != os.readlink("/proc/self/ns/pid")
    except OSError:
        return False


class _Capture(threading.Thread):
    """Drains the worker's stdout and stderr, keeping the first `cap` bytes of each call.

    The worker ends each call's output with END_OF_OUTPUT, so what a call printed is
    never counted in the next one, however the pipe splits it.
    """

    def __init__(self, stream, cap: int):
        super().__init__(daemon=True)
        self.stream, self.cap = stream, cap
        self.kept, self.dropped, self.carry = bytearray(), 0, b""
        self.done: list[str] = []  # the output of calls that ended, oldest first
        self.changed = threading.Condition()

    def run(self):
        for chunk in iter(lambda: self.stream.read1(65536), b""):
            with self.changed:
                self._feed(chunk)
                self.changed.notify_all()

    def _feed(self, data: bytes):
        data, mark = self.carry + data, wire.END_OF_OUTPUT
        while (i := data.find(mark)) >= 0:
            self._keep(data[:i])
            self.done.append(self._flush())
            data = data[i + len(mark):]
        split = max(len(data) - len(mark) + 1, 0)  # a marker may straddle two reads
        self._keep(data[:split])
        self.carry = data[split:]

    def _keep(self, data: bytes):
        room = max(self.cap - len(self.kept), 0)
        self.kept += data[:room]
        self.dropped += max(len(data) - room, 0)

    def _flush(self) -> str:
        text = self.kept.decode(errors="replace")
        if self.dropped:
            text += f"\n[... {self.dropped} more bytes of output not kept]"
        self.kept, self.dropped = bytearray(), 0
        return text

    def printed(self) -> int:
        """Bytes the current call has printed so far."""
        with self.changed:
            return len(self.kept) + self.dropped + len(self.carry)

    def take(self, wait: float = 2.0) -> str:
        """The output of the call that just answered (or, after a crash, all there is)."""
        with self.changed:
            self.changed.wait_for(lambda: self.done, timeout=wait)
            if self.done:
                return self.done.pop(0)
            self._keep(self.carry)
            self.carry = b""
            return self._flush()


class _Late(Exception):
    """The reply was not whole by the call's deadline."""


class _ReplyReader:
    """The worker's answer pipe, read with one deadline over the whole frame and a cap on its
    total size: a worker that sends a length and sleeps, or gigabytes, holds the grader
    neither past the call's time nor past `cap` bytes of memory."""

    def __init__(self, fd: int, deadline: float, cap: int):
        self.fd, self.deadline, self.cap, self.left = fd, deadline, cap, cap

    def read(self, n: int) -> bytes:
        if n > self.left:
            raise wire.ChannelError(f"an answer of over {self.cap} bytes")
        data = bytearray()
        while len(data) < n:
            wait = self.deadline - time.monotonic()
            if wait <= 0 or not select.select([self.fd], [], [], wait)[0]:
                raise _Late
            chunk = os.read(self.fd, min(n - len(data), 1 << 20))
            if not chunk:
                break  # EOF: read_frame sees a short read
            data += chunk
        self.left -= len(data)
        return bytes(data)


class _RequestWriter:
    """The worker's request pipe, written against the call's deadline: a worker that reads
    no more (student code can stop it) holds a request larger than the pipe no longer."""

    def __init__(self, fd: int, deadline: float):
        self.fd, self.deadline = fd, deadline

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            wait = self.deadline - time.monotonic()
            if wait <= 0 or not select.select([], [self.fd], [], wait)[1]:
                raise _Late
            try:
                view = view[os.write(self.fd, view[:1 << 20]):]
            except BlockingIOError:
                continue

    def flush(self) -> None:
        pass


class WorkerProcess:
    """One live worker; `call` it, `close` it."""

    def __init__(self, limits: Limits, files: dict[str, bytes], zygote=None, imports: tuple[str, ...] = ()):
        self.limits = limits
        self.home = tempfile.mkdtemp(prefix="grader-worker-")
        for rel, data in files.items():  # a copy: the student's own modules import from here
            if rel.endswith(".py"):
                target = os.path.join(self.home, rel)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as f:
                    f.write(data)
        req_read, self._req = os.pipe()
        self._resp, resp_write = os.pipe()
        env = dict(worker_env(limits, imports), HOME=self.home, TMPDIR=self.home)
        self.isolation = plans.prepare(self.home, limits.processes, limits.isolate,
                                       limits.tree_bytes)
        report_read, report_write = os.pipe()  # closed at exec: EOF once the worker is set up
        rlimits = (limits.memory_bytes, limits.processes, limits.file_bytes)
        self.proc = None
        if zygote is not None and zygote.alive:  # a fork of a process that has imported torch already
            out_read, out_write = os.pipe()
            try:
                self.proc = zygote.spawn({"cwd": self.home, "env": env, "plan": asdict(self.isolation),
                                          "limits": rlimits}, [req_read, resp_write, out_write, report_write],
                                         limits.start_seconds)
                self.proc.stdout = open(out_read, "rb")
            except OSError:  # the zygote is gone: a fresh worker costs time only
                os.close(out_read)
            finally:
                os.close(out_write)
        self.zygote = zygote if self.proc is not None else None
        if self.proc is None:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", WORKER_BOOT, GRADER_PARENT, str(req_read), str(resp_write)],
                cwd=self.home, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, pass_fds=(req_read, resp_write), start_new_session=True,
                preexec_fn=_limit(*rlimits, self.isolation, report_write))
        os.close(req_read)
        os.close(resp_write)
        os.close(report_write)
        self.in_force = _read_report(report_read, limits.start_seconds)
        self.contained = _own_pid_namespace(self.proc.pid)
        os.set_blocking(self._req, False)  # written by _RequestWriter
        self.requests = os.fdopen(self._req, "wb", buffering=0)  # owns the descriptor: closed once
        self.responses = os.fdopen(self._resp, "rb", buffering=0)  # read by _ReplyReader
        self.output = _Capture(self.proc.stdout, limits.output_bytes)
        self.output.start()
        self.answered = 0  # requests answered: a worker that dies before its first cannot start

    def call(self, header: dict, blobs: list[bytes], seconds: float) -> tuple[dict, list[bytes], str]:
        """Send one request and wait for its answer; raise WorkerCrashed or CallTimeout."""
        if self.contained:  # the worker may end what a failed call left running
            header = dict(header, contained=True)
        deadline = time.monotonic() + seconds  # one for the whole call: the request and its answer
        try:
            wire.write_frame(_RequestWriter(self._req, deadline), header, blobs)
            reply, out = wire.read_frame(_ReplyReader(self._resp, deadline, self.limits.reply_bytes))
        except _Late:
            printed = self.output.printed()
            self.close()
            flood = f"; your code printed {_size(printed)} during this call" if printed > 1 << 20 else ""
            raise CallTimeout(f"the call did not return within {seconds:g} s "
                              f"(an endless loop, or far too much work?){flood}; the worker was stopped",
                              output=self.output.take(wait=0.5)) from None
        except (EOFError, OSError):  # the worker is gone: its pipes are closed
            raise self._died() from None
        except (wire.ChannelError, ValueError) as e:
            self.close()
            raise WorkerCrashed(f"the worker sent a malformed answer ({e}); it was stopped",
                                output=self.output.take(wait=0.5)) from None
        except BaseException:  # interrupted (Ctrl-C, a test timeout): the answer would arrive out of turn
            self.close()
            raise
        self.answered += 1
        return reply, out, self.output.take()

    def _died(self) -> WorkerCrashed | GraderFault:
        code = self.proc.wait(timeout=10)
        self.close()
        self.output.join(timeout=1)
        if self.zygote is not None and not self.zygote.alive:  # it took its workers: no verdict on this call
            return GraderFault("the zygote that forks the workers ended during a call, and its worker with it: "
                               "nothing was graded wrong; grade this submission again")
        why = ""
        if code < 0:
            name = signal.Signals(-code).name
            why = {"SIGSEGV": " (a segmentation fault)", "SIGKILL": " (killed: out of memory?)",
                   "SIGXFSZ": " (it wrote a file over the size limit)"}.get(name, "")
            code_text = f"signal {name}{why}"
        else:
            code_text = f"exit code {code}"
        return WorkerCrashed(f"the worker process died ({code_text}) during this call",
                             output=self.output.take(wait=0.5))

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        kill_tree(self.proc.pid)
        self.proc.wait()
        plans.release(self.isolation)  # what left the process group: killed by its cgroup
        for stream in (self.requests, self.responses):
            try:
                stream.close()
            except OSError:
                pass
        shutil.rmtree(self.home, ignore_errors=True)


class Sandbox:
    """The worker as the rubric sees it: always there, reloading parts after a restart."""

    def __init__(self, limits: Limits = Limits(), files: dict[str, bytes] | None = None, zygote=None,
                 imports: tuple[str, ...] = ()):
        self.limits, self.files, self.zygote = limits, files or {}, zygote  # zygote: forks the workers
        self.imports = imports  # what a fresh worker imports before its first request
        self.loads: dict[str, dict] = {}    # part -> load request, replayed on a fresh worker
        self.loaded: dict[str, dict] = {}   # part -> what the worker answered to it
        self.failed_starts = 0
        self._worker: WorkerProcess | None = None

    def _live(self) -> WorkerProcess:
        if self._worker is None or not self._worker.alive:
            if self._worker is not None:
                self._worker.close()
            self._worker = WorkerProcess(self.limits, self.files, self.zygote, self.imports)
            for part, header in self.loads.items():
                self._send_load(part, header)
        return self._worker

    def _send_load(self, part: str, header: dict) -> None:
        seconds = self.limits.start_seconds + header["budget"] * len(header["chunks"])
        ok, out, _ = self._request(header, [], seconds)
        self.loaded[part] = wire.decode(ok, out)

    def _request(self, header: dict, blobs: list[bytes], seconds: float):
        try:
            reply, out, output = self._worker.call(header, blobs, seconds)
        except WorkerCrashed as e:
            # Student code at load time cannot kill the worker (the loader tries it in a fork
            # first), so two fresh workers in a row that die unanswered is the grader's fault.
            self.failed_starts = self.failed_starts + 1 if self._worker.answered == 0 else 0
            if self.failed_starts >= 2:
                raise GraderFault(f"the worker process cannot start:\n{e.output.strip()}") from None
            raise
        self.failed_starts = 0
        if "error" in reply:
            raise _fault(reply["error"], output)
        return reply["ok"], out, output

    def start(self) -> None:
        """Start the worker now (it imports torch while the caller does other work)."""
        self._live()

    def source(self, part: str) -> list[tuple[str, str]]:
        """The (origin, code) chunks of `part` as this side sent them: the worker is not asked."""
        return [(c["origin"], c["code"]) for c in self.loads[part]["chunks"]]

    def weaknesses(self) -> list[str]:
        """The protections that the platform refused to this worker, one line each."""
        return isolation.weaknesses(self._live().in_force)

    def load(self, part: str, chunks: list[dict], budget: float = 5.0, course: dict | None = None,
             provided: dict | None = None) -> dict:
        """Load a part's definitions; returns `{"names": [...], "skipped": [...]}`."""
        header = load_request(part, chunks, budget, course, provided)
        fresh = self._worker is None or not self._worker.alive
        self.loads[part] = header
        self._live()  # a fresh worker replays every registered load, this one included
        if not fresh:
            self._send_load(part, header)
        return self.loaded[part]

    def request(self, header: dict, args=(), kwargs=None, seconds: float | None = None):
        """Send a call or a get; return (decoded value, captured output)."""
        self._live()
        blobs: list[bytes] = []
        header = dict(header, args=wire.encode(list(args), blobs),
                      kwargs=wire.encode(dict(kwargs or {}), blobs))
        ok, out, output = self._request(header, blobs, seconds or self.limits.call_seconds)
        try:
            return wire.decode(ok, out), output
        except wire.ChannelError as e:
            self.close()
            raise WorkerCrashed(f"the worker sent a malformed answer ({e}); it was stopped", output=output) from None

    def close(self) -> None:
        if self._worker is not None:
            self._worker.close()
            self._worker = None


def _size(n: int) -> str:
    return f"{n / (1 << 30):.1f} GB" if n >= 1 << 30 else f"{n / (1 << 20):.0f} MB"


def _fault(error: dict, output: str) -> StudentFault:
    kw = dict(where=error.get("where"), traceback=error.get("traceback", ""), output=output,
              function=error.get("function"))
    if error.get("grader"):
        return NameMissing(error["message"], **kw)
    if error["type"] == "NotImplementedError":
        return NotImplementedYet(error["type"], error["message"], **kw)
    return StudentError(error["type"], error["message"], **kw)
