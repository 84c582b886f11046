"""One top-level statement run at load time under a budget: an alarm for Python code, and a
trial in a forked child first for a statement that computes, since an alarm cannot stop a
loop in C that holds the GIL (`x = sum(range(10**12))`, `2**10**10`)."""

from __future__ import annotations

import faulthandler
import os
import resource
import select
import signal
import sys

# What a statement must leave of the worker's address space for the checks (a CNN's training
# step takes ~150 MiB): one that leaves less uses up the memory limit and is skipped.
MEMORY_RESERVE = 1 << 30


class StatementTimeout(BaseException):
    """Raised by the alarm inside a statement that runs past its budget."""


def _memory_left() -> int | None:
    """Bytes of the address-space limit still free, or None without a limit (or /proc)."""
    limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    if limit == resource.RLIM_INFINITY:
        return None
    try:
        with open("/proc/self/statm") as f:
            return limit - int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def trial(code, namespace: dict, budget: float) -> str | None:
    """Run `code` in a forked child (which then vanishes): why it cannot run here, or None.

    The child's output goes nowhere, so the statement's prints are not doubled.
    """
    try:
        read, write = os.pipe()
        pid = os.fork()
    except OSError:  # no fork (process limit): rely on the alarm alone
        return None
    if pid == 0:
        try:
            faulthandler.disable()  # a crash is reported by its status, not a dump
            if "torch" in sys.modules:  # a forked OpenMP pool deadlocks; one thread never forks it
                sys.modules["torch"].set_num_threads(1)
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1), os.dup2(null, 2)
            sys.stdout = sys.stderr = open(os.devnull, "w")
            os.close(read)
            try:
                exec(code, namespace)
            except BaseException:  # noqa: BLE001 - an exception is reported by the real run
                pass
            left = _memory_left()
            os.write(write, b"m" if left is not None and left < MEMORY_RESERVE else b"x")
        finally:
            os._exit(0)
    os.close(write)
    try:
        ready, _, _ = select.select([read], [], [], budget)
        answer = os.read(read, 1) if ready else b""
    finally:
        os.close(read)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _, status = os.waitpid(pid, 0)
    if answer == b"x":
        return None
    if answer == b"m":
        limit = resource.getrlimit(resource.RLIMIT_AS)[0]
        return (
            f"uses up the memory limit at load time: it leaves less than {MEMORY_RESERVE >> 20} MiB "
            f"of the worker's {limit >> 20} MiB for grading"
        )
    if not ready:
        return f"ran past its {budget:g} s budget at load time"
    code = os.waitstatus_to_exitcode(status)  # a crash here would kill the worker on every reload
    how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
    return f"stops the process at load time ({how})"


def run_statement(code, namespace: dict, budget: float) -> None:
    def alarm(signum, frame):
        raise StatementTimeout

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, budget)
    try:
        exec(code, namespace)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
