"""The bounds of a worker: the `Limits` of its calls and resources, and the preexec that
puts a fresh worker under them (isolation first, then rlimits), reporting what held."""

from __future__ import annotations

import json
import os
import resource
import select
import time
from dataclasses import dataclass

from grader.sandbox import child
from grader.sandbox import plan as plans
from grader.sandbox.kernel import die_with_parent


@dataclass(frozen=True)
class Limits:
    call_seconds: float = 60.0  # one call from the rubric
    start_seconds: float = 60.0  # importing torch in a fresh worker
    memory_bytes: int = 6 << 30  # address space of each process; torch alone maps ~1.5 GiB
    tree_bytes: int = 6 << 30  # memory of the worker's whole process tree (memory cgroup)
    processes: int = 256  # RLIMIT_NPROC (not enforced for root)
    file_bytes: int = 64 << 20  # largest file the worker may write
    output_bytes: int = 64 << 10  # captured stdout+stderr kept per call
    reply_bytes: int = 64 << 20  # one answer, all its parts (the largest legitimate: ~5 MB)
    threads: int = 1  # torch threads in the worker
    isolate: bool = True  # OS isolation where the platform has it (child.py)


def preexec(memory: int, processes: int, file_bytes: int, plan: plans.Plan, report: int):
    """The worker's preexec: isolation, then limits; what held is written to `report`."""

    def limits():
        die_with_parent()
        # RLIMIT_NPROC counts every process of the user, and all workers run as one: only where
        # no pids cgroup holds
        pids = plan.done.get("cgroup") and "pids" in plan.cgroups
        nproc = resource.RLIM_INFINITY if pids else processes
        for which, value in (
            (resource.RLIMIT_AS, memory),
            (resource.RLIMIT_NPROC, nproc),
            (resource.RLIMIT_FSIZE, file_bytes),
            (resource.RLIMIT_CORE, 0),
        ):
            try:
                resource.setrlimit(which, (value, value))
            except (ValueError, OSError):
                pass  # a platform without that limit keeps its default

    def apply():
        die_with_parent()
        done = child.enter(
            plan, then=limits
        )  # may fork an init for a PID namespace: only the worker comes back
        os.write(report, json.dumps(dict(done, enabled=plan.enabled)).encode())

    return apply


def read_report(fd: int, seconds: float) -> dict:
    """What the worker's preexec recorded (`child.enter`'s steps), read until its exec."""
    data, deadline = b"", time.monotonic() + seconds
    try:
        while (
            len(data) < 1 << 16
            and select.select([fd], [], [], max(deadline - time.monotonic(), 0))[0]
        ):
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
