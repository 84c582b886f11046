"""Hostile submissions against the platform (issue 27): the worker has no privileges, a
syscall filter and one memory bound for its process tree, and what a student writes
reaches the instructor inert (terminal, grades.csv).

Graded as root (the worker then runs as an unprivileged user), through `grade check` as an
ordinary user that the test creates where the platform allows, and in a `grade batch`.
What the platform lacks skips with the reason (`grade isolation` says it too).
"""

from __future__ import annotations

import csv
import ctypes
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import reference_source
from test_hostile_files import ordinary_user  # noqa: F401 - the fixture

from grader.render import junit, terminal
from grader.results import PartResult, Report, TestResult
from grader.sandbox import Limits, Sandbox, StudentPart, WorkerCrashed, cgroup, isolation

# syscall numbers (asm/unistd.h) of what the filter denies
NR = {
    "x86_64": {
        "add_key": 248,
        "request_key": 249,
        "keyctl": 250,
        "bpf": 321,
        "perf_event_open": 298,
        "io_uring_setup": 425,
        "unshare": 272,
        "setns": 308,
        "chroot": 161,
        "mount": 165,
        "ptrace": 101,
        "clone": 56,
    },
    "aarch64": {
        "add_key": 217,
        "request_key": 218,
        "keyctl": 219,
        "bpf": 280,
        "perf_event_open": 241,
        "io_uring_setup": 425,
        "unshare": 97,
        "setns": 268,
        "chroot": 51,
        "mount": 40,
        "ptrace": 117,
        "clone": 220,
    },
}
NUMBERS = NR.get(platform.machine(), {})

PLATFORM = '''\
import ctypes
import errno
import os
import select
import socket
import time

NR = NUMBERS_HERE
_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
L = ctypes.c_long


def _call(name, *args):
    ctypes.set_errno(0)
    if _libc.syscall(L(NR[name]), *args) >= 0:
        return "ok"
    return errno.errorcode.get(ctypes.get_errno(), "?")


def _clone(flags):
    """A fork into new namespaces (the child, if any, ends at once)."""
    ctypes.set_errno(0)
    pid = _libc.syscall(L(NR["clone"]), L(flags | 17), None, None, None, None)  # 17: SIGCHLD
    if pid == 0:
        os._exit(0)
    if pid > 0:
        os.waitpid(pid, 0)
        return "ok"
    return errno.errorcode.get(ctypes.get_errno(), "?")


def identity():
    return {"uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(), "groups": os.getgroups()}


def keyring(mine, planted):
    """Leave a key in every keyring the worker has; look for one planted outside."""
    left = [_call("add_key", b"user", mine.encode(), b"left by a student", L(17), L(ring))
            for ring in (-3, -4, -5)]  # session, user, user session
    return {"add_key": left,
            "request_key": _call("request_key", b"user", planted.encode(), None, L(0)),
            "keyctl": _call("keyctl", L(10), L(-4), b"user", planted.encode(), L(0))}  # SEARCH


def attempts():
    params = ctypes.create_string_buffer(128)
    out = {"bpf": _call("bpf", L(0), ctypes.create_string_buffer(128), L(128)),  # BPF_MAP_CREATE
           "perf_event_open": _call("perf_event_open", ctypes.create_string_buffer(128), L(0),
                                    L(-1), L(-1), L(0)),
           "io_uring_setup": _call("io_uring_setup", L(1), params),
           "unshare": _call("unshare", L(0x10000000 | 0x20000000)),  # CLONE_NEWUSER | CLONE_NEWPID
           "setns": _call("setns", L(0), L(0)),
           "chroot": _call("chroot", b"/"),
           "mount": _call("mount", b"none", b"/", b"tmpfs", L(0), None),
           "ptrace": _call("ptrace", L(16), L(os.getppid()), None, None),  # PTRACE_ATTACH
           "clone": _clone(0x10000000 | 0x40000000)}  # CLONE_NEWUSER | CLONE_NEWNET
    for family, kind in (("AF_NETLINK", socket.SOCK_RAW), ("AF_VSOCK", socket.SOCK_STREAM),
                         ("AF_INET", socket.SOCK_STREAM), ("AF_INET6", socket.SOCK_DGRAM),
                         ("AF_PACKET", socket.SOCK_RAW)):
        try:
            socket.socket(getattr(socket, family), kind).close()
            out[family] = "ok"
        except OSError as e:
            out[family] = errno.errorcode.get(e.errno, "?")
    a, b = socket.socketpair()  # what the worker's own channels are: still there
    a.close(), b.close()
    return out


def together(n, mib, seconds):
    """`n` children, each holding `mib` MiB at once: how many are alive and holding at the end."""
    read, write = os.pipe()
    children = []
    for _ in range(n):
        pid = os.fork()
        if pid == 0:
            try:
                block = bytearray(b"x") * (mib << 20)  # written: every page is resident
                os.write(write, b"x")
                time.sleep(seconds)
            finally:
                os._exit(0)
        children.append(pid)
    held, deadline = 0, time.monotonic() + seconds / 2
    while held < n and select.select([read], [], [], max(deadline - time.monotonic(), 0))[0]:
        held += len(os.read(read, n))
    alive = sum(os.waitpid(pid, os.WNOHANG)[0] == 0 for pid in children)
    for pid in children:
        try:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        except OSError:
            pass
    return {"held": held, "alive": alive}
'''.replace("NUMBERS_HERE", repr(NUMBERS))

FOUND = isolation.probe() if isolation.LINUX else {}
DONE = FOUND.get("done", {})
ROOT_USER = os.geteuid() == 0
need_numbers = pytest.mark.skipif(
    not NUMBERS, reason=f"syscall numbers unknown here ({platform.machine()})"
)
need_seccomp = pytest.mark.skipif(
    not DONE.get("seccomp"), reason="no seccomp filter here (no libseccomp?)"
)
need_memory = pytest.mark.skipif(
    "memory" not in DONE.get("cgroups", []),
    reason="no memory cgroup here (needs root or a delegated cgroup)",
)


@pytest.fixture(scope="module")
def part(zygote):
    box = Sandbox(Limits(call_seconds=30), files={"tries.py": PLATFORM.encode()}, zygote=zygote)
    yield StudentPart(
        box, "tries", 0, box.load("tries", [{"origin": "tries.py", "code": PLATFORM}])
    )
    box.close()


def test_the_worker_is_not_root(part):
    who = part.call("identity")
    assert who["uid"] != 0 and who["euid"] != 0 and who["gid"] != 0
    if ROOT_USER:
        assert who["groups"] == [] and who["uid"] == DONE.get("uid")


@need_numbers
@need_seccomp
def test_no_key_is_left_in_a_keyring_and_none_planted_outside_is_read(part):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    L = ctypes.c_long
    planted, mine = f"grader-test-{uuid.uuid4().hex}", f"grader-student-{uuid.uuid4().hex}"
    key = libc.syscall(
        L(NUMBERS["add_key"]), b"user", planted.encode(), b"secret", L(6), L(-4)
    )  # the grading user's keyring
    try:
        found = part.call("keyring", mine, planted)
    finally:
        if key >= 0:
            libc.syscall(L(NUMBERS["keyctl"]), L(21), L(key))  # KEYCTL_INVALIDATE
    assert found["add_key"] == ["EPERM"] * 3, found
    assert found["request_key"] == found["keyctl"] == "EPERM", found
    left = libc.syscall(L(NUMBERS["keyctl"]), L(10), L(-4), b"user", mine.encode(), L(0))
    assert left < 0  # nothing reached the grading user's keyring either


@need_numbers
@need_seccomp
def test_what_student_code_never_needs_is_denied(part):
    tried = part.call("attempts")
    assert {name: result for name, result in tried.items() if result == "ok"} == {}
    for name in NUMBERS.keys() - {"add_key", "request_key", "keyctl"}:  # denied by the filter
        assert tried[name] == "EPERM", (name, tried)


@need_memory
def test_a_worker_tree_shares_one_memory_bound(zygote):
    bound, each = 768 << 20, 200
    box = Sandbox(
        Limits(call_seconds=60, tree_bytes=bound),
        files={"tries.py": PLATFORM.encode()},
        zygote=zygote,
    )
    try:
        part = StudentPart(
            box, "tries", 0, box.load("tries", [{"origin": "tries.py", "code": PLATFORM}])
        )
        group = box._worker.isolation.cgroups["memory"]
        try:
            held = part.call("together", 5, each, 6)
            assert held["alive"] * (each << 20) < bound, held  # 5 x 200 MiB would be 1000 MiB
        except WorkerCrashed as e:  # the kernel chose the worker itself: the tree stayed bounded
            assert "killed" in e.message
        for name in ("memory.max_usage_in_bytes", "memory.peak"):
            if os.path.exists(os.path.join(group, name)):
                assert int(open(os.path.join(group, name)).read()) <= bound
    finally:
        box.close()


def test_each_worker_has_its_own_cpu_group(part):
    if "cpu" not in DONE.get("cgroups", []):
        pytest.skip("no cpu cgroup here (needs root or a delegated cgroup)")
    group = part.sandbox._worker.isolation.cgroups["cpu"]
    assert part.sandbox._worker.proc.pid in cgroup.pids(group)
    weight = "cpu.shares" if os.path.exists(os.path.join(group, "cpu.shares")) else "cpu.weight"
    assert open(os.path.join(group, weight)).read().strip() in ("1024", "100")  # equal shares


# -- through the command line: as root, as an ordinary user, in a batch ------------------------

SHOUT = "\x1b[31mred\x1b]0;title\x07\x00\u202e"


def _hostile_answers() -> str:
    return (
        reference_source("answers")
        + f"""

from tries import attempts as _attempts


def conv_output_size(size, kernel, padding, stride):
    raise ValueError(__import__("json").dumps(_attempts()) + {SHOUT!r})
"""
    )


def _check(folder, prefix=(), cwd=None) -> tuple[subprocess.CompletedProcess, dict]:
    out = folder / "out.json"
    # --seed: an ordinary user cannot keep an instructor's seed in the session's config folder.
    run = subprocess.run(
        [
            *prefix,
            sys.executable,
            "-m",
            "grader.cli",
            "check",
            str(folder),
            "--parts",
            "answers",
            "--json",
            str(out),
            "--seed",
            "7",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd or folder,
    )
    return run, json.loads(out.read_text())


def _judge_check(run, report) -> None:
    assert run.returncode == 1, run.stderr
    for stream in (run.stdout, run.stderr):
        assert not any(c in stream for c in "\x1b\x00\x07\u202e"), stream  # inert: shown as escapes
    assert "\\x1b[31mred" in run.stdout
    failed = next(t for t in report["tests"] if t["id"].startswith("answers::conv_output_size"))
    message = failed["message"]
    tried = json.loads(message[message.index('{"bpf"') : message.rindex("}") + 1])
    assert tried and "ok" not in tried.values(), tried


def _submission(base) -> object:
    folder = base / "hostile"
    folder.mkdir()
    (folder / "answers.py").write_text(_hostile_answers())
    (folder / "tries.py").write_text(PLATFORM)
    return folder


@need_numbers
def test_grade_check_as_root_denies_and_shows_inert(tmp_path):
    _judge_check(*_check(_submission(tmp_path)))


@need_numbers
def test_grade_check_as_an_ordinary_user_denies_and_shows_inert(ordinary_user):  # noqa: F811
    user, prefix = ordinary_user
    base = tempfile.mkdtemp(prefix="grader-test-user-")  # where that user may enter
    try:
        folder = _submission(Path(base))
        for path in [base, folder, *folder.iterdir()]:
            shutil.chown(path, user)
        _judge_check(*_check(folder, prefix))
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_a_formula_for_a_name_arrives_as_text_in_grades_csv(tmp_path):
    names = ["=2+3", "-1+1", "@SUM(A1)", "+cmd", "ok"]
    for name in names:
        (tmp_path / "class" / name).mkdir(parents=True)
        (tmp_path / "class" / name / "answers.py").write_text(
            reference_source("answers")
            + f"\n\ndef conv_params(i, o, k):\n    raise ValueError({SHOUT!r})\n"
        )
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader.cli",
            "batch",
            str(tmp_path / "class"),
            "--out",
            str(tmp_path / "out"),
            "--parts",
            "answers",
            "--jobs",
            "1",
            "--weak-isolation",
        ],  # the CSV is the point here, as root or not
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert not any(c in run.stdout + run.stderr for c in "\x1b\x00\x07")
    with open(tmp_path / "out" / "grades.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    inert = sorted("'" + n if n[0] in "=-@+" else n for n in names)
    assert sorted(row["id"] for row in rows) == inert
    assert all(float(row["total"]) > 0 for row in rows)  # scores stay numbers


def test_the_terminal_and_junit_show_control_characters_as_escapes():
    failed = TestResult(
        id="x::y",
        part="x",
        name="y",
        status="failed",
        score=0,
        max_score=1,
        message=f"ValueError: {SHOUT}\nnext line",
    )
    report = Report(
        submission=f"a{SHOUT}", seed=0, parts=[PartResult(part="x", found=True)], tests=[failed]
    )
    plain = "\n".join(terminal.lines(report))
    assert not any(c in plain for c in "\x1b\x00\x07\u202e")
    assert "\\x1b[31mred" in plain and "next line" in plain
    coloured = io.StringIO()
    terminal.render(report, coloured, color=True)
    assert "\x1b[31mred" not in coloured.getvalue() and "\x00" not in coloured.getvalue()
    assert "\\x1b[31mred" in coloured.getvalue()
    xml = junit.render(report).split("\n", 1)[1]
    failure = ET.fromstring(xml).find(".//failure")  # well-formed XML
    assert "\\x00" in failure.text and "\x00" not in failure.text


def test_written_marks_find_a_quoted_id_in_grades_csv(tmp_path):
    """grades.csv quotes `=2+3`; the written marks merged into it still find that student."""
    import written_corpus

    from grader.render import csv as gradebook
    from grader.results import Graded
    from grader.written.merge import grades_csv
    from grader.written.store import Mark, MarkStore, path_in

    questions = written_corpus.QUESTIONS
    key = questions.questions[0].key
    path = tmp_path / "grades.csv"
    path.write_text(
        gradebook.render(
            [Graded(id="=2+3", entry="=2+3", status="failed-to-grade", error="-")], ()
        ),
        encoding="utf-8-sig",
    )
    store = MarkStore(path_in(tmp_path))
    try:
        store.set_marks([Mark("=2+3", key, 1.0, (), "", "")])
        grades_csv(path, store, questions)
    finally:
        store.close()
    with open(path, encoding="utf-8-sig", newline="") as f:
        row = next(csv.DictReader(f))
    assert row["id"] == "'=2+3" and row["error"] == "'-" and row["written"] == "1"
