"""The trusted side of one worker process: start it under limits, call it, stop it.

The worker runs `python -m grader.worker` in its own session (so that it and its
children can be killed together), in an empty temporary directory with HOME and
TMPDIR inside it, under an address-space, a process-count, a file-size and a
core-dump limit, and isolated by the operating system as far as the platform allows
(`grader.sandbox.plan` and `child`: namespaces, an allow-list root holding only Python,
the allowed packages, the worker's code and its home, no network, a pids cgroup,
Landlock; `weaknesses()` says what the platform refused). Each call has
a wall-clock limit. A worker that dies, hangs or speaks out of turn is killed with
everything it started; that call raises, and the next call starts a fresh worker that
reloads the parts (`grader.sandbox.session`). A zygote that ends takes its workers: the call in flight gives no
verdict (`GraderFault`), and the next worker starts as a fresh interpreter.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict

import grader
from grader.sandbox import plan as plans
from grader.sandbox.capture import Capture
from grader.sandbox.faults import CallTimeout, GraderFault, WorkerCrashed
from grader.sandbox.kernel import kill_tree
from grader.sandbox.limits import Limits, preexec, read_report
from grader.sandbox.pipes import Late, ReplyReader, RequestWriter
from grader.worker import wire

# The worker runs the grader code that this process runs (an editable install may map
# `grader` elsewhere for a fresh interpreter); appended, so it never shadows anything.
GRADER_PARENT = os.path.dirname(os.path.dirname(os.path.realpath(grader.__file__)))
WORKER_BOOT = (
    "import sys; sys.path.append(sys.argv.pop(1)); "
    "from grader.worker.__main__ import main; main(int(sys.argv[1]), int(sys.argv[2]))"
)


def worker_env(limits, imports: tuple[str, ...] = ()) -> dict[str, str]:
    """A worker's environment but its HOME and TMPDIR: the same for a zygote's. `imports`:
    modules it imports before its first request (`grader.lab.Lab.worker_imports`)."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "PYTHONPATH")}
    env.update(
        MPLBACKEND="Agg",
        PYTHONHASHSEED="0",
        GRADER_THREADS=str(limits.threads),
        OMP_NUM_THREADS=str(limits.threads),
        PYTHONDONTWRITEBYTECODE="1",
        GRADER_IMPORTS=" ".join(imports),
        GRADER_WORKER=_lab_worker(),
    )
    return env


def _lab_worker() -> str:
    from grader.labs import current

    return current().worker or ""


def _own_pid_namespace(pid: int) -> bool:
    """Whether the worker started as `pid` runs in a PID namespace of its own."""
    try:
        return os.readlink(f"/proc/{pid}/ns/pid_for_children") != os.readlink("/proc/self/ns/pid")
    except OSError:
        return False


class WorkerProcess:
    """One live worker; `call` it, `close` it."""

    def __init__(
        self, limits: Limits, files: dict[str, bytes], zygote=None, imports: tuple[str, ...] = ()
    ):
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
        self.isolation = plans.prepare(
            self.home, limits.processes, limits.isolate, limits.tree_bytes
        )
        report_read, report_write = os.pipe()  # closed at exec: EOF once the worker is set up
        rlimits = (limits.memory_bytes, limits.processes, limits.file_bytes)
        self.proc = None
        if (
            zygote is not None and zygote.alive
        ):  # a fork of a process that has imported torch already
            out_read, out_write = os.pipe()
            try:
                self.proc = zygote.spawn(
                    {
                        "cwd": self.home,
                        "env": env,
                        "plan": asdict(self.isolation),
                        "limits": rlimits,
                    },
                    [req_read, resp_write, out_write, report_write],
                    limits.start_seconds,
                )
                self.proc.stdout = open(out_read, "rb")
            except OSError:  # the zygote is gone: a fresh worker costs time only
                os.close(out_read)
            finally:
                os.close(out_write)
        self.zygote = zygote if self.proc is not None else None
        if self.proc is None:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", WORKER_BOOT, GRADER_PARENT, str(req_read), str(resp_write)],
                cwd=self.home,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                pass_fds=(req_read, resp_write),
                start_new_session=True,
                preexec_fn=preexec(*rlimits, self.isolation, report_write),
            )
        os.close(req_read), os.close(resp_write), os.close(report_write)
        self.in_force = read_report(report_read, limits.start_seconds)
        self.contained = _own_pid_namespace(self.proc.pid)
        os.set_blocking(self._req, False)  # written by RequestWriter
        self.requests = os.fdopen(self._req, "wb", buffering=0)  # owns the descriptor: closed once
        self.responses = os.fdopen(self._resp, "rb", buffering=0)  # read by ReplyReader
        self.output = Capture(self.proc.stdout, limits.output_bytes)
        self.output.start()
        self.answered = 0  # requests answered: a worker that dies before its first cannot start

    def call(
        self, header: dict, blobs: list[bytes], seconds: float
    ) -> tuple[dict, list[bytes], str]:
        """Send one request and wait for its answer; raise WorkerCrashed or CallTimeout."""
        if self.contained:  # the worker may end what a failed call left running
            header = dict(header, contained=True)
        deadline = time.monotonic() + seconds  # one for the whole call: the request and its answer
        try:
            wire.write_frame(RequestWriter(self._req, deadline), header, blobs)
            reply, out = wire.read_frame(ReplyReader(self._resp, deadline, self.limits.reply_bytes))
        except Late:
            printed = self.output.printed()
            self.close()
            flood = (
                f"; your code printed {_size(printed)} during this call"
                if printed > 1 << 20
                else ""
            )
            raise CallTimeout(
                f"the call did not return within {seconds:g} s "
                f"(an endless loop, or far too much work?){flood}; the worker was stopped",
                output=self.output.take(wait=0.5),
            ) from None
        except (EOFError, OSError):  # the worker is gone: its pipes are closed
            raise self._died() from None
        except (wire.ChannelError, ValueError) as e:
            self.close()
            raise WorkerCrashed(
                f"the worker sent a malformed answer ({e}); it was stopped",
                output=self.output.take(wait=0.5),
            ) from None
        except (
            BaseException
        ):  # interrupted (Ctrl-C, a test timeout): the answer would arrive out of turn
            self.close()
            raise
        self.answered += 1
        return reply, out, self.output.take()

    def _died(self) -> WorkerCrashed | GraderFault:
        code = self.proc.wait(timeout=10)
        self.close()
        self.output.join(timeout=1)
        if (
            self.zygote is not None and not self.zygote.alive
        ):  # it took its workers: no verdict on this call
            return GraderFault(
                "the zygote that forks the workers ended during a call, and its worker with it: "
                "nothing was graded wrong; grade this submission again"
            )
        why = ""
        if code < 0:
            name = signal.Signals(-code).name
            why = {
                "SIGSEGV": " (a segmentation fault)",
                "SIGKILL": " (killed: out of memory?)",
                "SIGXFSZ": " (it wrote a file over the size limit)",
            }.get(name, "")
            code_text = f"signal {name}{why}"
        else:
            code_text = f"exit code {code}"
        return WorkerCrashed(
            f"the worker process died ({code_text}) during this call",
            output=self.output.take(wait=0.5),
        )

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


def _size(n: int) -> str:
    return f"{n / (1 << 30):.1f} GB" if n >= 1 << 30 else f"{n / (1 << 20):.0f} MB"
