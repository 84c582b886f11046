"""What the worker's isolation holds on this machine: `grade isolation`, and the notes of
`grade check` and `grade batch` when a protection is unavailable.

`weaknesses(done)` reads what the worker's preexec recorded (`grader.sandbox.child`);
`probe()` starts a child isolated as a worker is, plants secrets where a hostile
worker would look (`/tmp`, the home folder, the source tree, a Unix socket listening
outside) and tries each way out; `protections()` turns that into one row per protection.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import tempfile

import grader
from grader.sandbox import child, syscalls
from grader.sandbox import plan as plans
from grader.sandbox.kernel import LINUX, landlock_abi  # noqa: F401 - LINUX: tests read isolation.LINUX

# a step recorded by the child -> what is lost without it
STEPS = {
    "root": "no allow-list root: the worker can read the host's files (other students', the solution)",
    "pivot": "no allow-list root: the worker can read the host's files (other students', the solution)",
    "net": "no network namespace: the worker can reach the network",
    "pid": "no PID namespace: a child that calls setsid can outlive the worker",
    "capabilities": "capabilities not dropped",
    "landlock": "no Landlock: no second fence on writes and TCP",
    "uid": "the worker runs as root: it owns whatever root owns that it can reach",
    "seccomp": "no syscall filter: keyrings, bpf, io_uring, namespaces, raw sockets reachable",
    "memory": "no memory bound on the worker's process tree: its children can take it all",
    "cpu": "no CPU share per worker: in a batch, one student's processes can starve another's",
}


def weaknesses(done: dict) -> list[str]:
    """The protections that this worker's platform refused, one line each."""
    if not done.get("enabled", True):
        return [
            "isolation is off (GRADER_ISOLATION=0, or not Linux): only the resource limits hold"
        ]
    spaces = done.get("namespaces", [])
    lost = [s for s in ("net", "pid") if s not in spaces]
    lost += [s for s in ("root", "pivot", "capabilities") if done.get(s) is False]
    lost += ["root"] if "mnt" not in spaces else []
    lost += ["landlock"] if not done.get("landlock") else []
    lost += ["uid"] if done.get("uid", 0) == 0 else []
    lost += ["seccomp"] if not done.get("seccomp") else []
    lost += [c for c in ("memory", "cpu") if c not in done.get("cgroups", [])]
    return list(dict.fromkeys(STEPS[s] for s in lost))


def _refused(fn) -> bool:
    try:
        fn()
        return False
    except OSError:
        return True


def _write(path: str) -> None:
    with open(path, "w") as f:
        f.write("x")
    os.unlink(path)


def _readable(path: str) -> None:
    if os.path.isdir(path):
        if not os.listdir(path):
            raise OSError(errno.ENOENT, "empty")
    else:
        open(path).close()


def _places() -> dict[str, list[str]]:
    """Where the solution and other people's files are, on the host, for this install."""
    from grader.labs import current, instructor_only

    lab, package = current(), os.path.dirname(os.path.realpath(grader.__file__))
    found = {
        "solution": [
            *map(str, instructor_only(lab)),
            str(lab.rubric),
            os.path.join(os.path.dirname(package), ".git"),
        ],
        "host": ["/etc/shadow"],
    }
    return {what: sorted({p for p in paths if os.path.exists(p)}) for what, paths in found.items()}


def _probe(plan: plans.Plan, port: int, places: dict[str, list[str]], sock: str) -> dict:
    """Run in an isolated child: try what a hostile worker would."""
    outside = [
        os.path.join(d, f"grader-probe-{os.getpid()}")
        for d in ("/", os.path.dirname(plan.home), plan.worker)
    ]
    found = {
        "done": plan.done,
        "home_writable": not _refused(lambda: _write(os.path.join(plan.home, "probe"))),
        "writes_outside_refused": all(_refused(lambda p=p: _write(p)) for p in outside),
        "solution_unreadable": {p: _refused(lambda p=p: _readable(p)) for p in places["solution"]},
        "host_unreadable": {p: _refused(lambda p=p: _readable(p)) for p in places["host"]},
        "network_refused": _refused(
            lambda: socket.create_connection(("127.0.0.1", port), timeout=2).close()
        ),
        "unix_socket_refused": _refused(lambda: socket.socket(socket.AF_UNIX).connect(sock)),
        "pid_namespace": os.getpid() <= 3,
        "uid": os.getuid(),
        "netlink_refused": _refused(lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW)),
    }
    try:
        found["home_bytes"] = os.statvfs(plan.home).f_blocks * os.statvfs(plan.home).f_frsize
    except OSError:
        found["home_bytes"] = None
    try:
        status = open("/proc/self/status").read()
        found["capabilities"] = next(
            line.split()[1] for line in status.splitlines() if line.startswith("CapEff")
        )
    except (OSError, StopIteration):
        found["capabilities"] = "?"
    found["signal_parent_refused"] = _refused(lambda: os.kill(os.getppid(), 0)) or os.getppid() in (
        0,
        1,
    )
    return found


def _plant(folder: str) -> list[str]:
    """A secret in `folder` and in the grading user's home, where they can be written."""
    planted = []
    for where in (folder, os.path.expanduser("~")):
        path = os.path.join(where, f".grader-probe-secret-{os.getpid()}")
        try:
            with open(path, "x") as f:
                f.write("secret")
            planted.append(path)
        except OSError:
            pass  # not ours to write (a normal user's /root): nothing planted there
    return planted


def probe(enabled: bool = True) -> dict:
    """Start an isolated child as the worker would be, and try what it can do."""
    scratch = tempfile.mkdtemp(prefix="grader-isolation-")  # in /tmp: where other workers live
    home = os.path.join(scratch, "home")
    os.mkdir(home)
    plan = plans.prepare(home, 64, enabled=enabled)
    listener, unix = socket.socket(), socket.socket(socket.AF_UNIX)
    secrets = _plant(scratch)
    places = _places()
    places["host"] += secrets
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        sock = os.path.join(scratch, "listener.sock")
        unix.bind(sock)
        unix.listen(1)
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(read)
                os.setsid()
                child.enter(plan, keep=[write])
                os.write(
                    write,
                    json.dumps(_probe(plan, listener.getsockname()[1], places, sock)).encode(),
                )
            finally:
                os._exit(0)
        os.close(write)
        data = b""
        while chunk := os.read(read, 65536):
            data += chunk
        os.close(read)
        os.waitpid(pid, 0)
    finally:
        listener.close(), unix.close()
        for secret in secrets:
            os.unlink(secret)
        plans.release(plan)
        shutil.rmtree(scratch, ignore_errors=True)
    found = json.loads(data or b"{}")
    found["cgroup"] = "pids" in plan.cgroups and found.get("done", {}).get("cgroup", False)
    found["landlock_abi"] = landlock_abi()
    found["enabled"] = plan.enabled
    return found


def protections(found: dict | None = None) -> list[dict]:
    """One row per protection: what, in force or not, how."""
    f = found if found is not None else probe()
    done = f.get("done", {})
    spaces = done.get("namespaces", [])
    landlock = done.get("landlock", 0)
    rooted = bool(done.get("root") and done.get("pivot"))
    via_user = " (inside a user namespace)" if "user" in spaces else ""
    solution, host = f.get("solution_unreadable", {}), f.get("host_unreadable", {})
    root = os.geteuid() == 0
    uid, bounded = f.get("uid", 0), done.get("cgroups", [])

    def how(*parts):
        return "; ".join(p for p in parts if p) or "-"

    allow_list = (
        "allow-list root: only Python, "
        + ", ".join(plans.ALLOWED)
        + " and the worker's code"
        + via_user
    )
    return [
        {
            "what": "allow-list file system (an empty root, pivoted into)",
            "in_force": rooted,
            "how": how(allow_list if rooted else ""),
        },
        {
            "what": "solution, rubric, source tree and .git unreadable",
            "in_force": bool(solution) and all(solution.values()),
            "how": how("not in the worker's root" if rooted else ""),
        },
        {
            "what": "/tmp, home folders, /etc/shadow, other workers' homes unreadable",
            "in_force": bool(host) and all(host.values()),
            "how": how("not in the worker's root" if rooted else ""),
        },
        {
            "what": "host Unix sockets unreachable",
            "in_force": f.get("unix_socket_refused", False),
            "how": how("not in the worker's root" if rooted else ""),
        },
        {
            "what": "writes outside the worker's home",
            "in_force": f.get("writes_outside_refused", False),
            "how": how(
                "every mount of the root read-only" if rooted else "",
                f"Landlock ABI {landlock}" if landlock else "",
            ),
        },
        {
            "what": "home size-capped",
            "in_force": bool(f.get("home_bytes")) and f["home_bytes"] <= plans.HOME_BYTES,
            "how": how(f"tmpfs of {plans.HOME_BYTES >> 20} MiB" if rooted else ""),
        },
        {
            "what": "network",
            "in_force": f.get("network_refused", False),
            "how": how(
                "new network namespace (loopback down)" if "net" in spaces else "",
                "Landlock TCP bind/connect" if landlock >= 4 else "",
            ),
        },
        {
            "what": "children die with the worker (even after setsid)",
            "in_force": f.get("pid_namespace", False) or f.get("cgroup", False),
            "how": how(
                "PID namespace whose init dies with the worker" if "pid" in spaces else "",
                "pids cgroup, killed on close" if f.get("cgroup") else "",
            ),
        },
        {
            "what": "process count (fork bomb, threads)",
            "in_force": f.get("cgroup", False) or uid != 0,
            "how": "pids cgroup"
            if f.get("cgroup")
            else ("RLIMIT_NPROC" if uid != 0 else "RLIMIT_NPROC (not enforced for root)"),
        },
        {
            "what": "one memory bound for the worker's whole process tree",
            "in_force": "memory" in bounded,
            "how": how("memory cgroup, no swap" if "memory" in bounded else ""),
        },
        {
            "what": "CPU shared fairly between workers (one student cannot starve another)",
            "in_force": "cpu" in bounded,
            "how": how("a cpu cgroup per worker, equal weights" if "cpu" in bounded else ""),
        },
        {
            "what": "an unprivileged user",
            "in_force": uid != 0,
            "how": how(
                f"uid {uid}, no supplementary groups" if root and uid else "",
                "the grading user" if not root else "",
            ),
        },
        {
            "what": "syscall filter (keyrings, bpf, io_uring, namespaces, mount, ptrace, sockets)",
            "in_force": bool(done.get("seccomp")) and f.get("netlink_refused", False),
            "how": how(
                "seccomp through libseccomp"
                if done.get("seccomp")
                else ("" if syscalls.available() else "no libseccomp here")
            ),
        },
        {
            "what": "host devices, /proc of the host",
            "in_force": rooted,
            "how": how(
                "/dev: null, zero, full, random, urandom" if rooted else "",
                "fresh read-only /proc of the PID namespace" if done.get("proc") else "",
            ),
        },
        {
            "what": "no privileges",
            "in_force": f.get("capabilities") == "0000000000000000",
            "how": how(
                "capabilities dropped (bounding set too), no_new_privs"
                if done.get("capabilities")
                else ("not root" if not root else "")
            ),
        },
        {
            "what": "signals to processes outside the worker",
            "in_force": f.get("signal_parent_refused", False),
            "how": how(
                "PID namespace" if "pid" in spaces else "",
                "Landlock signal scope" if landlock >= 6 else "",
            ),
        },
    ]


def missing() -> list[str]:
    """The protections not in force here, for `grade batch` to refuse without --weak-isolation."""
    return [row["what"] for row in protections() if not row["in_force"]]
