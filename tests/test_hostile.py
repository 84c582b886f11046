"""Hostile submissions (issue 6): the worker contains them, and the grade goes on.

One small test per hostile behaviour, sharing one sandbox where the behaviour does not
need a fresh one. What the platform cannot isolate (no root, no namespaces, no
Landlock) skips with the reason; `grader.sandbox.isolation.describe()` says what is in
force. Every test ends with nothing of the worker left running.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import sysconfig
import time
import uuid
from pathlib import Path

import pytest
import torch
from conftest import REFERENCE, ROOT

from grader.sandbox import (
    CallTimeout,
    Limits,
    Remote,
    Sandbox,
    StudentError,
    StudentPart,
    WorkerCrashed,
    cgroup,
    isolation,
)

HOSTILE = '''\
import os
import socket
import subprocess
import sys
import sys
import threading
import numpy as np
import torch


def add(a, b):
    return a + b


def leave(code):
    sys.exit(code)


def forkbomb():
    while True:
        os.fork()


def threads(n):
    stop, started = threading.Event(), 0
    try:
        for _ in range(n):
            threading.Thread(target=stop.wait, daemon=True).start()
            started += 1
    except RuntimeError:
        pass
    finally:
        stop.set()
    return started


def escape():
    """A grandchild that leaves the process group and session, then sleeps."""
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork() == 0:
            import time
            time.sleep(600)
        os._exit(0)
    os.waitpid(pid, 0)
    return "escaped"


def write(path):
    with open(path, "w") as f:
        f.write("written by a student")
    return True


def read(path):
    with open(path) as f:
        return f.read()


def import_reference():
    import grader.reference.tp1_manual
    return "imported"


def connect(port):
    socket.create_connection(("127.0.0.1", port), timeout=5).close()
    return "connected"


class Liar(torch.Tensor):
    def numpy(self, *args, **kwargs):
        return np.full(tuple(self.shape), 5.0, dtype=np.float32)

    def __eq__(self, other):
        return True

    def equal(self, other):
        return True


def liar():
    return torch.zeros(3).as_subclass(Liar)


class AlwaysEqual:
    def __eq__(self, other):
        return True

    def __hash__(self):
        return 0


def always_equal():
    return AlwaysEqual()


class LyingDict(dict):
    def __eq__(self, other):
        return True

    def keys(self):
        return ["Wh", "bh", "Wy", "by"]


def lying_dict():
    return LyingDict(a=1)


class LyingList(list):
    def __eq__(self, other):
        return True


def lying_list():
    return LyingList([1, 2])
'''
LIMITS = Limits(memory_bytes=3 << 30, call_seconds=30, processes=128)


def _in_force() -> dict:
    return isolation.probe() if isolation.LINUX else {}


IN_FORCE = _in_force()
DONE = IN_FORCE.get("done", {})
need_readonly = pytest.mark.skipif(
    not IN_FORCE.get("writes_outside_refused"),
    reason="no read-only file system for the worker here "
    "(needs root or user namespaces, or Landlock)",
)
need_root = pytest.mark.skipif(
    not (DONE.get("root") and DONE.get("pivot")),
    reason="no allow-list root for the worker here (needs a mount namespace)",
)
need_netns = pytest.mark.skipif(
    not IN_FORCE.get("network_refused"),
    reason="no network isolation here (needs a network namespace or Landlock ABI 4)",
)
need_pidns = pytest.mark.skipif(
    not (IN_FORCE.get("pid_namespace") or IN_FORCE.get("cgroup")),
    reason="a child that calls setsid can outlive the worker here "
    "(needs a PID namespace or a pids cgroup)",
)
need_process_limit = pytest.mark.skipif(
    not IN_FORCE.get("cgroup") and os.geteuid() == 0,
    reason="no process limit for root without a pids cgroup",
)


# ---- what the worker leaves behind ----


def _stat(pid: str):
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[3])  # state, session id


def worker_processes(box: Sandbox) -> set[int]:
    """Every live process of the worker: its session, its PID namespace, its cgroup."""
    worker = box._worker
    if worker is None:
        return set()
    sid = worker.proc.pid
    try:
        ns = os.readlink(f"/proc/{sid}/ns/pid_for_children")
    except OSError:
        ns = None
    mine = os.readlink("/proc/self/ns/pid")
    found = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            state, session = _stat(pid)
            their_ns = os.readlink(f"/proc/{pid}/ns/pid")
        except (OSError, ValueError):
            continue
        if state != "Z" and (session == sid or (ns and ns != mine and their_ns == ns)):
            found.add(int(pid))
    for path in worker.isolation.cgroups.values():
        found |= set(cgroup.pids(path))
    return found


def alive(pids: set[int]) -> set[int]:
    """Those of `pids` still running, after giving the kernel up to 5 s to reap them."""
    deadline = time.monotonic() + 5
    while True:
        left = set()
        for pid in pids:
            try:
                if _stat(str(pid))[0] != "Z":
                    left.add(pid)
            except (OSError, ValueError):
                pass
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.02)


@pytest.fixture(scope="module")
def box(zygote):
    sandbox = Sandbox(LIMITS, files={"hostile.py": HOSTILE.encode()}, zygote=zygote)
    yield sandbox
    pids = worker_processes(sandbox)
    sandbox.close()
    assert not alive(pids), "processes of the worker survived it"


@pytest.fixture(scope="module")
def part(box):
    return StudentPart(
        box, "hostile", 0, box.load("hostile", [{"origin": "hostile.py", "code": HOSTILE}])
    )


@pytest.fixture
def fresh(zygote):
    """A sandbox of its own, for what must be seen to die with it."""
    boxes = []

    def make(source: str = HOSTILE, name: str = "hostile", budget: float = 5.0):
        sandbox = Sandbox(LIMITS, files={f"{name}.py": source.encode()}, zygote=zygote)
        boxes.append(sandbox)
        loaded = sandbox.load(name, [{"origin": f"{name}.py", "code": source}], budget=budget)
        return sandbox, StudentPart(sandbox, name, 0, loaded)

    yield make
    for sandbox in boxes:
        pids = worker_processes(sandbox)
        sandbox.close()
        assert not alive(pids), "processes of the worker survived it"


# ---- exits, processes, threads ----


def test_sys_exit_in_a_function_is_an_error_and_the_worker_goes_on(part):
    with pytest.raises((StudentError, WorkerCrashed), match="SystemExit|exit code 4"):
        part.call("leave", 4)
    assert part.call("add", 1, 2) == 3


@need_process_limit
def test_fork_bomb_is_stopped_and_nothing_survives(fresh):
    box, part = fresh()
    with pytest.raises((StudentError, CallTimeout, WorkerCrashed)) as info:
        part.call("forkbomb", _timeout=20)
    if isinstance(
        info.value, StudentError
    ):  # the limit stopped it: fork failed in the student's code
        assert info.value.exc_type in ("BlockingIOError", "OSError")
    assert part.call("add", 1, 2) == 3  # no copy of the worker answered or read in its place
    deadline = time.monotonic() + 10
    while (
        len(worker_processes(box)) > 3 and time.monotonic() < deadline
    ):  # the killed forks are exiting
        time.sleep(0.05)
    assert len(worker_processes(box)) <= 3  # the forks are gone: the worker (and its init)


def test_thousands_of_threads_are_bounded(part):
    started = part.call("threads", 5000, _timeout=20)
    assert started < 5000
    assert part.call("add", 1, 2) == 3


@need_pidns
def test_child_that_leaves_the_session_dies_with_the_worker(fresh):
    box, part = fresh()
    assert part.call("escape") == "escaped"
    sid = box._worker.proc.pid
    escaped = {p for p in worker_processes(box) if _stat(str(p))[1] != sid}
    assert escaped, "the grandchild should have left the worker's session"
    box.close()
    assert not alive(escaped)


# ---- the file system ----


@need_readonly
@pytest.mark.parametrize("where", ["tmp", "repository", "site-packages", "root"])
def test_writes_outside_the_home_are_refused(part, where):
    name = f"hostile-{uuid.uuid4().hex}"
    path = {
        "tmp": os.path.join("/tmp", name),
        "repository": str(ROOT / "grader" / name),
        "site-packages": os.path.join(sysconfig.get_paths()["purelib"], name),
        "root": os.path.join("/", name),
    }[where]
    try:
        with pytest.raises(StudentError) as info:
            part.call("write", path)
        assert info.value.exc_type in ("OSError", "PermissionError", "FileNotFoundError")
    finally:
        if os.path.exists(path):
            os.unlink(path)
    assert not os.path.exists(path)


def test_writes_in_the_home_work(part):
    assert part.call("write", "notes.txt") is True
    assert part.call("read", "notes.txt") == "written by a student"


@need_root
@pytest.mark.parametrize(
    "path",
    [REFERENCE / "tp1_manual.py", ROOT / "grader" / "labs" / "rdfia" / "rubric" / "mistakes.py"],
    ids=["reference", "rubric"],
)
def test_reference_and_rubric_are_unreadable(part, path):
    assert path.is_file()  # the trusted side reads it
    with pytest.raises(StudentError) as info:
        part.call("read", str(path))
    assert info.value.exc_type in ("FileNotFoundError", "PermissionError")


@need_root
def test_the_grading_users_files_are_unreadable(part):
    """An instructor's key, or another class's submissions, in a home directory."""
    secret = Path(os.path.expanduser("~")) / f".grader-test-secret-{os.getpid()}"
    secret.write_text("the instructor's key")
    try:
        with pytest.raises(StudentError) as info:
            part.call("read", str(secret))
        assert info.value.exc_type in ("FileNotFoundError", "PermissionError")
    finally:
        secret.unlink()


@need_root
def test_reference_cannot_be_imported(part):
    with pytest.raises(StudentError, match="ModuleNotFoundError|ImportError"):
        part.call("import_reference")


# ---- the network ----


@need_netns
def test_no_network_to_the_host(part):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.setblocking(False)
    try:
        with pytest.raises(StudentError) as info:
            part.call("connect", listener.getsockname()[1])
        assert info.value.exc_type in (
            "OSError",
            "PermissionError",
            "ConnectionRefusedError",
            "TimeoutError",
        )
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody came
    finally:
        listener.close()


# ---- values that lie ----


def test_tensor_subclass_arrives_as_a_plain_tensor(part):
    got = part.call("liar")
    assert type(got) is torch.Tensor  # rebuilt from bytes: no student method comes along
    assert got.shape == (3,) and not torch.equal(got, torch.full((3,), 7.0))
    assert not (got == torch.full((3,), 7.0)).any()


@pytest.mark.parametrize("name", ["always_equal", "lying_dict"])
def test_objects_with_forged_eq_stay_in_the_worker(part, name):
    got = part.call(name)
    assert isinstance(got, Remote)  # a handle: its __eq__ never runs here
    assert got != 1 and got != {"a": 1} and got != {}


def test_list_subclass_arrives_as_a_plain_list(part):
    got = part.call("lying_list")
    assert type(got) is list and got == [1, 2] and got != [1, 2, 3]


# ---- hostile at import time ----


def test_top_level_loop_in_a_def_only_module_is_not_run(fresh):
    source = "def f():\n    return 1\n\nwhile True:\n    pass\n\nfor i in iter(int, 1):\n    pass\n"
    start = time.monotonic()
    box, part = fresh(source, "loops", budget=1.0)
    assert part.call("f") == 1 and time.monotonic() - start < 30


def test_shell_at_load_time_is_bounded_and_contained(fresh):
    marker = f"/tmp/hostile-{uuid.uuid4().hex}"
    source = (
        f"import os, time\nx = os.system('echo pwned > {marker}')\ny = time.sleep(600)\n"
        "def f():\n    return 1\n"
    )
    start = time.monotonic()
    box, part = fresh(source, "shell", budget=1.0)
    assert time.monotonic() - start < 30
    assert part.call("f") == 1
    assert any("line 3" in s["where"] and "budget" in s["error"] for s in part.skipped)
    try:
        if IN_FORCE.get("writes_outside_refused"):
            assert not os.path.exists(marker)
    finally:
        if os.path.exists(marker):
            os.unlink(marker)


def test_module_that_imports_itself(fresh):
    source = "import selfish\nfrom selfish import g\n\ndef g():\n    return 2\n"
    box, part = fresh(source, "selfish", budget=1.0)
    assert part.call("g") == 2


# ---- and the grade goes on ----


def test_a_correct_submission_after_the_corpus_gets_full_marks(grade_path):
    report = grade_path(REFERENCE, ("tp1_manual",))
    assert report.max_score > 0 and report.score == report.max_score


def test_a_deeply_nested_notebook_is_refused_with_a_message(tmp_path):
    notebook = tmp_path / "deep.ipynb"
    notebook.write_text("[" * 100_000)
    run = subprocess.run(
        [sys.executable, "-m", "grader.cli", "check", str(notebook)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert (
        run.stderr.startswith("grade: deep.ipynb is not a readable notebook")
        and run.stderr.count("\n") == 1
    )
