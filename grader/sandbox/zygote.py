"""A zygote: a clean process that has imported what every worker imports (torch, numpy,
the lab's `worker_imports`, the worker's code) and forks each worker, so that
a worker starts in milliseconds instead of the seconds of a fresh interpreter.

The zygote never runs student code and is never isolated itself: each fork isolates
itself (`grader.sandbox.child`, as a fresh worker does between fork and exec), sets its
limits, drops every descriptor but its channel, and only then becomes the worker. A fork
is single-threaded, as `unshare(CLONE_NEWUSER)` needs (the zygote has one thread). A
spawn that names a module forks a trusted process instead (`grade batch`'s grading
processes): a fork of a process that never ran student code is as clean as a fresh one.

The trusted side talks to it over socket pairs, its channels: a spawn request (JSON and
the worker's descriptors), answered with the worker's pid; then the zygote reports each
worker's exit status (it is their parent) on the channel that asked for it. The first
channel can open more (`Zygote.connect`), one per grading process that shares the zygote;
when one closes, the zygote kills the workers it asked for, and when the first closes,
the zygote ends. `Forked` gives the trusted side what it uses of `Popen`.
"""

from __future__ import annotations

import gc
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading

from grader.sandbox.kernel import die_with_parent, kill_tree

BOOT = (
    "import sys; sys.path.append(sys.argv.pop(1)); "
    "from grader.sandbox.zygote import serve; serve(int(sys.argv[1]))"
)
MESSAGE = 1 << 16


class Connection:
    """A channel of the trusted side to a zygote: `spawn` a worker on it, learn when it ended.
    Closing it kills the workers it spawned that still run."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.exits: dict[int, int] = {}  # pid -> return code (as Popen's), once ended
        self.spawned: list[int | None] = []  # the answer to the spawn in progress
        self.changed = threading.Condition()
        self.closed = False
        self.lock = threading.Lock()  # one spawn at a time
        threading.Thread(target=self._listen, daemon=True).start()

    def _listen(self):
        while True:
            try:
                data = self.sock.recv(MESSAGE)
            except OSError:
                data = b""
            with self.changed:
                if not data:
                    self.closed = True
                    self.changed.notify_all()
                    return
                message = json.loads(data)
                if "exit" in message:
                    self.exits[message["exit"]] = os.waitstatus_to_exitcode(message["status"])
                else:
                    self.spawned.append(message.get("pid"))
                self.changed.notify_all()

    @property
    def alive(self) -> bool:
        return not self.closed

    def spawn(self, request: dict, fds: list[int], seconds: float) -> Forked:
        """Fork a worker set up by `request` (see `_worker`), holding `fds`."""
        return self.spawn_all([(request, fds)], seconds)[0]

    def spawn_all(self, spawns: list[tuple[dict, list[int]]], seconds: float) -> list[Forked]:
        """Fork a process for each (request, fds), the requests sent together: a zygote still
        importing torch answers them together, once it has."""
        with self.lock:
            with self.changed:
                self.spawned.clear()
            try:
                for request, fds in spawns:
                    socket.send_fds(self.sock, [json.dumps(request).encode()], fds)
            except OSError as e:
                raise OSError(f"the zygote is gone ({e})") from None
            with self.changed:
                self.changed.wait_for(
                    lambda: len(self.spawned) >= len(spawns) or self.closed, timeout=seconds
                )
                pids = list(self.spawned)
        if len(pids) < len(spawns) or None in pids:
            for pid in filter(None, pids):
                kill_tree(pid)
            raise OSError("the zygote did not fork a worker")
        return [Forked(self, pid) for pid in pids]

    def close(self) -> None:
        try:
            self.sock.shutdown(
                socket.SHUT_RDWR
            )  # wakes the listener; close alone would wait for it
        except OSError:
            pass
        self.sock.close()


class Zygote(Connection):
    """The zygote process, and the trusted side's first channel to it. `connect()` opens
    another, for another process (each of `grade batch`'s grading processes): one zygote
    serves them all. The zygote ends when this first channel closes."""

    def __init__(self, limits, imports: tuple[str, ...] = ()):
        from grader.sandbox.process import GRADER_PARENT, worker_env

        self.home = tempfile.mkdtemp(prefix="grader-zygote-")
        env = dict(worker_env(limits, imports), HOME=self.home, TMPDIR=self.home)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", BOOT, GRADER_PARENT, str(theirs.fileno())],
            cwd=self.home,
            env=env,
            stdin=subprocess.DEVNULL,
            pass_fds=(theirs.fileno(),),
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        theirs.close()
        super().__init__(ours)

    @property
    def alive(self) -> bool:
        return not self.closed and self.proc.poll() is None

    def connect(self) -> socket.socket:
        """A new channel: give it to another process, which makes it a `Connection`."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            with self.lock:
                socket.send_fds(self.sock, [b'{"connect": true}'], [theirs.fileno()])
        except OSError as e:
            ours.close()
            raise OSError(f"the zygote is gone ({e})") from None
        finally:
            theirs.close()
        return ours

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        super().close()
        shutil.rmtree(self.home, ignore_errors=True)


class Forked:
    """A worker the zygote forked, as `Popen` shows a child: pid, poll, wait, returncode."""

    def __init__(self, zygote: Connection, pid: int):
        self.zygote, self.pid, self.returncode = zygote, pid, None
        self.stdout = None

    def _ended(self) -> bool:
        return self.returncode is not None or self.pid in self.zygote.exits or self.zygote.closed

    def poll(self) -> int | None:
        with self.zygote.changed:
            if self.returncode is None and self._ended():  # a zygote that died took its workers
                self.returncode = self.zygote.exits.pop(self.pid, -signal.SIGKILL)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        with self.zygote.changed:
            if not self.zygote.changed.wait_for(self._ended, timeout=timeout):
                raise subprocess.TimeoutExpired("worker", timeout)
        return self.poll()


# -- the zygote's side -----------------------------------------------------------


def serve(fd: int) -> None:
    """The zygote's loop: import once, then fork a worker per request, on any of its
    channels, and report each exit on the channel that asked for it. What the first channel
    asked for while torch was imported is answered then, before the workers' other imports
    (the worker's, the lab's): a trusted process needs torch only, and starts meanwhile,
    unless it asks for those imports too (`"imports": true`)."""
    import numpy  # noqa: F401 - imported once here, for every worker
    import torch

    torch.set_num_threads(int(os.environ.get("GRADER_THREADS", "1")))
    channels = [socket.socket(fileno=fd)]  # the first, then those it opens
    owner: dict[int, socket.socket | None] = {}  # live worker -> the channel that asked for it
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    state = (channels, owner, (wake_read, wake_write))
    later = []  # those first requests that want the workers' imports too: once they are done
    while select.select(channels[:1], [], [], 0)[0]:
        data, fds, _, _ = socket.recv_fds(channels[0], MESSAGE, 8)
        request = json.loads(data) if data else {}
        if (
            data
            and ("module" not in request or request.get("imports"))
            and "connect" not in request
        ):
            later.append((data, fds))
        else:
            _answer(channels[0], data, fds, *state)
    import grader.worker.__main__ as worker

    worker.import_ahead()
    # What every worker inherits is never garbage: frozen, a collection in the worker does not
    # walk it (seconds a batch), nor copy its pages by touching them. The trusted processes
    # answered above were forked before it; a batch grading process freezes its own heap too.
    gc.freeze()
    for data, fds in later:
        _answer(channels[0], data, fds, *state)
    while True:
        ready = select.select([*channels, wake_read], [], [])[0]
        if wake_read in ready:
            os.read(wake_read, 4096)
            _report_exits(owner)
        for sock in [c for c in channels if c in ready]:
            data, fds, _, _ = socket.recv_fds(sock, MESSAGE, 8)
            _answer(sock, data, fds, *state)


def _answer(sock, data: bytes, fds: list[int], channels: list, owner: dict, wake: tuple) -> None:
    """One message on a channel: a new channel, a spawn, or (empty) the channel's end."""
    if not data:
        if sock is channels[0]:
            os._exit(0)  # the trusted side is gone: its workers die with this process
        _hang_up(sock, channels, owner)
        return
    request = json.loads(data)
    if request.get("connect"):
        channels.append(socket.socket(fileno=fds[0]))
        return
    pid = os.fork()
    if pid == 0:
        _become(request, fds, keep=(*wake, *(c.fileno() for c in channels)))
    for f in fds:
        os.close(f)
    owner[pid] = sock
    sock.send(json.dumps({"pid": pid}).encode())


def _hang_up(sock, channels: list, owner: dict) -> None:
    """A channel closed (its grading process ended or was killed): so do its workers."""
    channels.remove(sock)
    sock.close()
    for pid, asked in owner.items():
        if asked is sock:
            owner[pid] = None
            kill_tree(pid)


def _report_exits(owner: dict) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        sock = owner.pop(pid, None)
        if sock is not None:
            try:
                sock.send(json.dumps({"exit": pid, "status": status}).encode())
            except OSError:
                pass  # its side is gone: it hangs up next


def _become(request: dict, fds: list[int], keep) -> None:
    """In the fork: leave the zygote's loop (its signals, its descriptors, its session), then
    become a trusted process (a request that names a module) or a worker; never return."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for f in keep:
            os.close(f)
        os.setsid()
        code = (_trusted if "module" in request else _worker)(request, fds)
    except BaseException:  # noqa: BLE001 - a fork never returns into the zygote's loop
        import traceback

        traceback.print_exc()  # as an interpreter that ends on an exception
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - student code may have replaced or closed them
                pass
        os._exit(code)


def _settle(request: dict) -> None:
    """The requested folder and environment, in place of the zygote's."""
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    tempfile.tempdir = None  # the zygote's TMPDIR is not this process's


def _trusted(request: dict, fds: list[int]) -> int:
    """`python -m MODULE FD...` for the trusted side (a grading process of `grade batch`),
    its stdin, stdout and stderr the first three of `fds`, the others passed by number.
    It runs no student code: no isolation, no limits; it dies with the zygote."""
    die_with_parent()
    for target, f in enumerate(fds[:3]):
        os.dup2(f, target)
        os.close(f)
    _settle(request)
    sys.argv = [request["module"], *map(str, fds[3:])]
    import runpy

    try:
        runpy.run_module(request["module"], run_name="__main__", alter_sys=True)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 1
    return 0


def _worker(request: dict, fds: list[int]) -> int:
    """What a fresh worker's Popen and preexec would do, then the worker's main."""
    requests, responses, output, report = fds
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0), os.dup2(output, 1), os.dup2(output, 2)
    os.close(null), os.close(output)
    _settle(request)
    from grader.sandbox import plan as plans
    from grader.sandbox.limits import preexec

    plan = plans.Plan(**request["plan"])
    preexec(*request["limits"], plan, report)()  # may fork an init: only the worker comes back
    os.close(report)  # the trusted side reads the report until EOF, as at a fresh worker's exec
    os.closerange(3, min(requests, responses))
    os.closerange(max(requests, responses) + 1, os.sysconf("SC_OPEN_MAX"))
    os.closerange(min(requests, responses) + 1, max(requests, responses))
    for name in [m for m in sys.modules if m.startswith("grader.sandbox")]:
        del sys.modules[name]  # the trusted side's code is none of the worker's business
    sys.path_importer_cache.clear()  # the zygote's view of the file system, before the new root
    import importlib

    importlib.invalidate_caches()
    sys.argv = ["-c", str(requests), str(responses)]  # as a fresh worker's
    from grader.worker.__main__ import main

    main(requests, responses)
    return 0
