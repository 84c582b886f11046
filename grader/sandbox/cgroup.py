"""The worker's cgroups, v1 or v2: made by the trusted side, joined by the worker first thing
(everything it starts is born inside), killed and removed when it closes.

- pids: at most `processes` tasks, threads included (fork bombs);
- memory: one bound on the memory of the worker's whole process tree, without swap: five
  children share it, they do not get it each;
- cpu: a group per worker at the default weight, so that in `grade batch` a worker with many
  busy processes gets one worker's share of the CPU, not one share per process.

Each controller is used where this process may create groups under its own (root, or a
delegated subtree); what is missing is reported off by `grader.sandbox.isolation`.
"""

from __future__ import annotations

import os
import signal
import time

ROOT = "/sys/fs/cgroup"
CONTROLLERS = ("pids", "memory", "cpu")
# controller -> (file, value or the key of the bound, required) for each cgroup version
V1 = {
    "pids": [("pids.max", "processes", True)],
    "memory": [
        ("memory.limit_in_bytes", "memory", True),
        ("memory.memsw.limit_in_bytes", "memory", False),
    ],
    "cpu": [("cpu.shares", "1024", True)],
}
V2 = {
    "pids": [("pids.max", "processes", True)],
    "memory": [
        ("memory.max", "memory", True),
        ("memory.swap.max", "0", False),
        ("memory.oom.group", "1", False),
    ],
    "cpu": [("cpu.weight", "100", True)],
}

_stale: list[str] = []


def _own() -> list[tuple[str, str]]:
    try:
        lines = open("/proc/self/cgroup").read().splitlines()
        return [tuple(line.split(":", 2)[1:]) for line in lines]
    except (OSError, ValueError):
        return []


def _v2_base(path: str, controller: str) -> str | None:
    """This process's v2 group, the controller enabled for the groups we create under it."""
    if not os.path.exists(os.path.join(ROOT, "cgroup.controllers")):
        return None  # v2 is not the main hierarchy (hybrid): its controllers are v1's
    base = os.path.join(ROOT, path.lstrip("/"))
    control = os.path.join(base, "cgroup.subtree_control")
    try:
        if controller not in open(control).read().split():
            with open(control, "w") as f:
                f.write(f"+{controller}")
        return base if os.access(base, os.W_OK) else None
    except OSError:
        return None


def bases() -> dict[str, tuple[str, int]]:
    """controller -> (the directory of this process's group, cgroup version), where writable."""
    found: dict[str, tuple[str, int]] = {}
    own = _own()
    for controllers, path in own:
        names = controllers.split(",")
        for name in set(names) & set(CONTROLLERS):
            for mount in (controllers, name):  # "cpu,cpuacct" is often mounted under both names
                base = os.path.join(ROOT, mount, path.lstrip("/"))
                if os.path.isdir(base) and os.access(base, os.W_OK):
                    found[name] = (base, 1)
                    break
    v2 = next((path for controllers, path in own if controllers == ""), None)
    for name in CONTROLLERS:
        if name not in found and v2 is not None and (base := _v2_base(v2, name)):
            found[name] = (base, 2)
    return found


def make(name: str, processes: int, memory: int) -> dict[str, str]:
    """controller -> a new group `name` bounded so, for each controller this process may use."""
    for stale in list(_stale):
        remove(stale)
    bounds = {"processes": str(processes), "memory": str(memory)}
    made: dict[str, str] = {}
    for controller, (base, version) in bases().items():
        path = os.path.join(base, name)
        try:
            if path not in made.values():
                os.mkdir(path)
            for file, value, required in (V1 if version == 1 else V2)[controller]:
                try:
                    with open(os.path.join(path, file), "w") as f:
                        f.write(bounds.get(value, value))
                except OSError:
                    if required:
                        raise
            made[controller] = path
        except OSError:
            if path not in made.values():
                remove(path)
    return made


def join(paths) -> None:
    """Move this process into each group (before it starts anything)."""
    for path in dict.fromkeys(paths):
        with open(os.path.join(path, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))


def pids(path: str) -> list[int]:
    try:
        return [int(p) for p in open(os.path.join(path, "cgroup.procs")).read().split()]
    except (OSError, ValueError):
        return []


def remove(path: str) -> bool:
    """Kill what is left in the group and remove it; True when it is gone."""
    deadline = time.monotonic() + 5
    while True:
        try:
            with open(os.path.join(path, "cgroup.kill"), "w") as f:  # cgroup v2, Linux 5.14+
                f.write("1")
        except OSError:
            pass
        for pid in pids(path):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.rmdir(path)
            if path in _stale:
                _stale.remove(path)
            return True
        except FileNotFoundError:
            return True
        except OSError:
            if time.monotonic() > deadline:
                if path not in _stale:
                    _stale.append(path)  # retried at the next worker
                return False
            time.sleep(0.01)  # the killed processes are still exiting
