"""Operating-system isolation of the worker, as much as the platform allows.

`prepare()` runs in the trusted process before the worker starts; `enter()` runs in
the worker's preexec (after fork, before exec); `release()` runs after the worker is
killed; `describe()` says what is in force here (`python -m grader.sandbox.isolation`).

On Linux:
- root: new mount, network, IPC, UTS and PID namespaces; the whole file system
  read-only but the worker's home (and a private /dev/shm); the reference solution and
  the rubric hidden under empty tmpfs; a minimal /dev (null, zero, full, random,
  urandom); a fresh read-only /proc of the worker's PID namespace; the worker's
  processes in a pids cgroup (`processes` of them at most); every capability dropped
  before exec, so the worker can undo none of it.
- not root: the same from inside a user namespace (own uid mapped to itself), when the
  kernel lets unprivileged users create one; no /dev replacement (a user cannot open
  raw devices anyway).
- both: Landlock (kernel 5.13+) forbids writing outside the home, TCP (ABI 4+), and
  signals and abstract sockets outside the worker (ABI 6+).
The PID namespace makes the worker's children die with it, even those that left its
process group (`setsid`): its init is a tiny process that dies with the worker.

Every step that the platform refuses is skipped, silently: the worker then runs with
what remains (at least the resource limits of `process.py`). Never raises.
`GRADER_ISOLATION=0` in the environment turns it all off (debugging only).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import errno
import itertools
import json
import os
import re
import signal
import socket
import stat
import sys
import tempfile
from dataclasses import dataclass, field

LINUX = sys.platform.startswith("linux")

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC = 32, 1024, 2048, 4096, 16384
MS_PRIVATE, MS_RELATIME, MS_STRICTATIME = 1 << 18, 1 << 21, 1 << 24
MNT_DETACH = 2
_MOUNT_FLAGS = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC, "noatime": MS_NOATIME,
                "nodiratime": MS_NODIRATIME, "relatime": MS_RELATIME}
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 1, 24, 38, 47

# Landlock (linux/landlock.h); the syscall numbers are the same on every architecture.
SYS_LANDLOCK_CREATE_RULESET, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446
LL_WRITE_FILE, LL_REMOVE_DIR, LL_REMOVE_FILE = 1 << 1, 1 << 4, 1 << 5
LL_MAKE = sum(1 << i for i in range(6, 13))  # char, dir, reg, sock, fifo, block, sym
LL_REFER, LL_TRUNCATE = 1 << 13, 1 << 14
LL_NET_BIND_TCP, LL_NET_CONNECT_TCP = 1, 2
LL_SCOPE_ABSTRACT_UNIX, LL_SCOPE_SIGNAL = 1, 2

DEVICES = {"null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8), "urandom": (1, 9)}


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


_libc = None


def _c():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        _libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                                ctypes.c_char_p]
        _libc.syscall.restype = ctypes.c_long
        _libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    return _libc


def _check(result: int) -> int:
    if result < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return result


def _mount(source, target, fstype, flags, data=None) -> None:
    enc = lambda s: None if s is None else os.fsencode(s)  # noqa: E731
    _check(_c().mount(enc(source), enc(target), enc(fstype), flags, enc(data)))


def _prctl(option, a=0, b=0, c=0, d=0) -> int:
    return _check(_c().prctl(option, a, b, c, d))


@dataclass
class Plan:
    """What the worker's preexec will set up; made by `prepare` in the trusted process."""
    home: str
    hidden: list[str]                 # directories the worker must not read
    processes: int = 256
    cgroup: str | None = None         # a pids cgroup made for this worker
    enabled: bool = True
    userns: bool = False              # force the unprivileged path (tests)
    private: list[str] = field(default_factory=list)  # home directories, covered ...
    needed: list[str] = field(default_factory=list)   # ... but for what the worker reads in them
    done: dict = field(default_factory=dict)  # filled in the child, for describe()


def hidden_directories(extra=()) -> list[str]:
    """The reference solution and the rubric, wherever this install keeps them."""
    from grader.labs import current
    lab = current()
    found: set[str] = {str(lab.reference), str(lab.rubric)}
    packages = set(sys.modules["grader"].__path__) if "grader" in sys.modules else set()
    for finder in sys.meta_path:  # an editable install maps the packages elsewhere
        mapping = getattr(sys.modules.get(getattr(finder, "__module__", "")), "MAPPING", None)
        if isinstance(mapping, dict):
            packages |= {v for k, v in mapping.items() if k == "grader"}
            found |= {v for k, v in mapping.items() if k == "grader.reference"}
    for package in packages:  # the source tree: grader/rubric, and reference/ beside grader/
        found |= {os.path.join(package, "rubric"), os.path.join(os.path.dirname(package), "reference")}
    found |= set(extra)
    return sorted({os.path.realpath(d) for d in found if os.path.isdir(d)})


def private_directories() -> list[str]:
    """Home directories: the grading user's keys, another class's submissions."""
    return sorted({os.path.realpath(d) for d in (os.path.expanduser("~"), "/root", "/home") if os.path.isdir(d)})


def needed_inside(private: list[str], home: str) -> list[str]:
    """What the worker reads inside the private directories: the Python installation, its
    import path, the grader, and its own home (where TMPDIR points there)."""
    grader = sys.modules["grader"].__path__ if "grader" in sys.modules else []
    wanted = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(sys.executable), home,
              *(p for p in sys.path if p), *(os.path.dirname(p) for p in grader)}
    paths = sorted({os.path.realpath(p) for p in wanted if os.path.isdir(p)})
    inside = [p for p in paths if _under(p, private)]
    return [p for p in inside if not _under(os.path.dirname(p), [q for q in inside if q != p])]


_counter = itertools.count()
_stale_cgroups: list[str] = []


def _pids_cgroup_base() -> str | None:
    """The directory of this process's pids cgroup, when it can hold children we create."""
    try:
        lines = open("/proc/self/cgroup").read().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "pids" in controllers.split(","):  # cgroup v1
            base = os.path.join("/sys/fs/cgroup/pids", path.lstrip("/"))
            return base if os.access(base, os.W_OK) else None
    for line in lines:
        if line.startswith("0::"):  # cgroup v2: pids must be enabled for our children
            base = os.path.join("/sys/fs/cgroup", line[3:].lstrip("/"))
            try:
                if "pids" not in open(os.path.join(base, "cgroup.subtree_control")).read().split():
                    with open(os.path.join(base, "cgroup.subtree_control"), "w") as f:
                        f.write("+pids")
                return base if os.access(base, os.W_OK) else None
            except OSError:
                return None
    return None


def _make_cgroup(processes: int) -> str | None:
    for stale in list(_stale_cgroups):
        _remove_cgroup(stale)
    base = _pids_cgroup_base()
    if base is None:
        return None
    path = os.path.join(base, f"grader-worker-{os.getpid()}-{next(_counter)}")
    try:
        os.mkdir(path)
        with open(os.path.join(path, "pids.max"), "w") as f:
            f.write(str(processes))
        return path
    except OSError:
        try:
            os.rmdir(path)
        except OSError:
            pass
        return None


def _cgroup_pids(path: str) -> list[int]:
    try:
        return [int(p) for p in open(os.path.join(path, "cgroup.procs")).read().split()]
    except (OSError, ValueError):
        return []


def _remove_cgroup(path: str) -> bool:
    """Kill what is left in the cgroup and remove it; True when it is gone."""
    import time
    deadline = time.monotonic() + 5
    while True:
        try:
            with open(os.path.join(path, "cgroup.kill"), "w") as f:  # cgroup v2, Linux 5.14+
                f.write("1")
        except OSError:
            pass
        for pid in _cgroup_pids(path):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.rmdir(path)
            if path in _stale_cgroups:
                _stale_cgroups.remove(path)
            return True
        except FileNotFoundError:
            return True
        except OSError:
            if time.monotonic() > deadline:
                if path not in _stale_cgroups:
                    _stale_cgroups.append(path)  # retried at the next worker
                return False
            time.sleep(0.01)  # the killed processes are still exiting


def prepare(home: str, processes: int = 256, extra_hidden=(), enabled: bool = True) -> Plan:
    """Trusted side, before the worker starts: what to hide, and a pids cgroup."""
    if not (LINUX and enabled) or os.environ.get("GRADER_ISOLATION") == "0":
        return Plan(home, [], processes, enabled=False)
    userns = os.environ.get("GRADER_ISOLATION_USERNS") == "1"
    home, private = os.path.realpath(home), private_directories()
    return Plan(home, hidden_directories(extra_hidden), processes, private=private,
                needed=needed_inside(private, home), cgroup=_make_cgroup(processes), userns=userns)


def release(plan: Plan) -> None:
    """Trusted side, after the worker was killed: nothing of it may survive."""
    if plan.cgroup:
        _remove_cgroup(plan.cgroup)


# ---- in the child, between fork and exec: no exception may escape ----

def _try(done: dict, key: str, fn, *args) -> bool:
    try:
        fn(*args)
        done[key] = True
    except Exception:  # noqa: BLE001 - a platform that refuses a step skips it
        done[key] = False
    return done[key]


def _join_cgroup(path: str) -> None:
    with open(os.path.join(path, "cgroup.procs"), "w") as f:
        f.write(str(os.getpid()))


def _unshare(plan: Plan) -> set[str]:
    """Enter new namespaces; which ones."""
    libc = _c()
    root = os.geteuid() == 0 and not plan.userns
    wanted = [("mnt", CLONE_NEWNS), ("net", CLONE_NEWNET), ("ipc", CLONE_NEWIPC), ("uts", CLONE_NEWUTS),
              ("pid", CLONE_NEWPID)]
    got: set[str] = set()
    if not root:
        uid, gid = os.geteuid(), os.getegid()
        if libc.unshare(CLONE_NEWUSER) != 0:
            return got
        try:
            with open("/proc/self/setgroups", "w") as f:
                f.write("deny")
            with open("/proc/self/uid_map", "w") as f:
                f.write(f"{uid} {uid} 1")
            with open("/proc/self/gid_map", "w") as f:
                f.write(f"{gid} {gid} 1")
        except OSError:
            return got
        got.add("user")
    for name, flag in wanted:
        if libc.unshare(flag) == 0:
            got.add(name)
    return got


def _mountinfo() -> list[tuple[str, set[str]]]:
    entries = []
    for line in open("/proc/self/mountinfo"):
        fields = line.split()
        point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4])  # \040: a space
        entries.append((point, set(fields[5].split(","))))
    return entries


def _under(path: str, roots) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def _minimal_dev() -> None:
    """A tmpfs /dev with only the harmless devices (root: the host's disks are not reachable)."""
    _mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=64k")
    for name, (major, minor) in DEVICES.items():
        os.mknod(f"/dev/{name}", 0o666 | stat.S_IFCHR, os.makedev(major, minor))
        os.chmod(f"/dev/{name}", 0o666)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"/dev/{name}")
    os.mkdir("/dev/shm", 0o1777)


def _private_homes(plan: Plan) -> None:
    """Cover the home directories with empty tmpfs, then bind back what the worker needs.
    The sources are held open first (O_PATH): once covered, no path reaches them."""
    held = [(path, os.open(path, os.O_PATH | os.O_DIRECTORY)) for path in plan.needed]
    covered = []
    try:
        for d in plan.private:
            _mount("tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
            covered.append(d)
        for path, fd in held:
            os.makedirs(path, exist_ok=True)
            _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
    except OSError:
        for d in reversed(covered):  # half done would leave the worker without Python
            _c().umount2(d.encode(), MNT_DETACH)
        raise
    finally:
        for _, fd in held:
            os.close(fd)


def _mounts(plan: Plan, root: bool, done: dict) -> None:
    _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing we do propagates to the host
    _try(done, "private", _private_homes, plan)  # before the hidden ones: a bind-back must not re-expose them
    _mount(plan.home, plan.home, None, MS_BIND | MS_REC)  # its own mount: stays writable
    done["hidden"] = []
    for d in plan.hidden:
        try:
            _mount("tmpfs", d, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=555")
            done["hidden"].append(d)
        except OSError:
            pass
    if root:
        _try(done, "dev", _minimal_dev)
    shm = "/dev/shm"
    if os.path.isdir(shm):
        _try(done, "shm", _mount, "tmpfs", shm, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=256m")
    keep = [plan.home, shm] + list(plan.hidden)
    readonly = True
    for point, options in _mountinfo():
        if _under(point, keep) and point != "/":
            continue
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        for option in options:
            flags |= _MOUNT_FLAGS.get(option, 0)
        try:
            _mount(None, point, None, flags)
        except OSError:
            if point == "/":
                readonly = False
    done["readonly"] = readonly
    os.chdir(plan.home)  # the bind mount, not the read-only directory beneath it


def _close_fds(keep) -> None:
    null = os.open("/dev/null", os.O_RDWR) if os.path.exists("/dev/null") else None
    for fd in (0, 1, 2):
        if null is not None:
            os.dup2(null, fd)
    keep = sorted(set(keep) | {0, 1, 2})
    start = 0
    for fd in keep + [os.sysconf("SC_OPEN_MAX")]:
        os.closerange(start, fd) if start < fd else None
        start = fd + 1


def _die_with_parent() -> None:
    try:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


def _mirror(status: int) -> None:
    """End this process the way a child ended (exit code or signal)."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            import resource
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            signal.signal(sig, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {sig})
        except (OSError, ValueError):
            pass
        os.kill(os.getpid(), sig)
        os._exit(128 + sig)
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)


def _init_chain(keep) -> None:
    """After unshare(CLONE_NEWPID): fork the namespace's init, which forks the worker.

    This process (the one the trusted side started) and the init only wait and then end
    as the worker ended; only the worker returns from here. The init dies with this
    process (PR_SET_PDEATHSIG), and every process of the namespace dies with the init.
    """
    read, write = os.pipe()
    init = os.fork()
    if init:  # the trusted side's child: waits for the init, ends as the worker ended
        try:
            _close_fds([read])
            _, status = os.waitpid(init, 0)
            reported = os.read(read, 16)
            if reported:
                status = int(reported)
        except BaseException:  # noqa: BLE001
            status = 1 << 8
        _mirror(status)
    # PID 1 of the new namespace
    _die_with_parent()
    os.close(read)
    try:
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY)
    except OSError:
        pass
    worker = os.fork()
    if worker:
        try:
            _drop_capabilities()  # the init needs none: it only waits
        except Exception:  # noqa: BLE001
            pass
    if worker == 0:
        os.close(write)
        return
    try:
        _close_fds([write])
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
        while True:
            try:
                pid, status = os.waitpid(-1, 0)  # reaps orphans too
            except ChildProcessError:
                break
            if pid == worker:
                os.write(write, str(status).encode())
                break
    finally:
        os._exit(0)  # the kernel now kills every process left in the namespace


def _drop_capabilities() -> None:
    last = int(open("/proc/sys/kernel/cap_last_cap").read())
    for cap in range(last + 1):
        try:
            _prctl(PR_CAPBSET_DROP, cap)
        except OSError:
            pass
    try:
        _prctl(PR_CAP_AMBIENT, 4)  # PR_CAP_AMBIENT_CLEAR_ALL
    except OSError:
        pass
    header, data = _CapHeader(0x20080522, 0), (_CapData * 2)()
    _check(_c().capset(ctypes.byref(header), ctypes.byref(data)))


def landlock_abi() -> int:
    if not LINUX:
        return 0
    try:
        return max(int(_c().syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))), 0)
    except Exception:  # noqa: BLE001
        return 0


def _landlock(plan: Plan, abi: int) -> None:
    libc = _c()
    write = LL_WRITE_FILE | LL_REMOVE_DIR | LL_REMOVE_FILE | LL_MAKE
    write |= (LL_REFER if abi >= 2 else 0) | (LL_TRUNCATE if abi >= 3 else 0)
    attr = _RulesetAttr(write, LL_NET_BIND_TCP | LL_NET_CONNECT_TCP if abi >= 4 else 0,
                        LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL if abi >= 6 else 0)
    ruleset = _check(libc.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr),
                                  ctypes.c_size_t(ctypes.sizeof(attr)), ctypes.c_uint32(0)))
    try:
        file_rights = LL_WRITE_FILE | (LL_TRUNCATE if abi >= 3 else 0)
        for path, rights in ((plan.home, write), ("/dev/shm", write), ("/dev/null", file_rights),
                             ("/dev/full", file_rights), ("/dev/zero", file_rights)):
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                rule = _PathBeneath(rights, fd)
                libc.syscall(SYS_LANDLOCK_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(1),
                             ctypes.byref(rule), ctypes.c_uint32(0))
            finally:
                os.close(fd)
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
        _check(libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)))
    finally:
        os.close(ruleset)


def enter(plan: Plan, then=None, keep=()) -> dict:
    """In the worker's preexec: isolate it; `then()` runs last while still privileged.

    May fork (a PID namespace needs an init): only the process that goes on to become
    the worker returns. `keep`: file descriptors the waiting processes keep open.
    """
    done = plan.done
    if not (LINUX and plan.enabled):
        if then:
            then()
        return done
    spaces: set[str] = set()
    root = os.geteuid() == 0 and not plan.userns
    try:  # every step degrades on its own: the worker still starts
        if plan.cgroup:
            _try(done, "cgroup", _join_cgroup, plan.cgroup)
        spaces = _unshare(plan)
        done["namespaces"] = sorted(spaces)
        if "mnt" in spaces:
            _try(done, "mounts", _mounts, plan, root, done)
        if "pid" in spaces:
            _init_chain(keep)
    except Exception:  # noqa: BLE001
        pass
    if then:
        then()
    try:
        if root or "user" in spaces:
            _try(done, "capabilities", _drop_capabilities)
        abi = landlock_abi()
        done["landlock"] = abi if abi and _try(done, "landlock_ok", _landlock, plan, abi) else 0
        _try(done, "no_new_privs", _prctl, PR_SET_NO_NEW_PRIVS, 1)
    except Exception:  # noqa: BLE001
        pass
    return done


# ---- what is in force here ----

def _probe(plan: Plan, port: int, outside: list[str], secret: str | None) -> dict:
    """Run in an isolated child: try what a hostile worker would."""
    found = {"done": plan.done}

    def refused(fn) -> bool:
        try:
            fn()
            return False
        except OSError:
            return True

    def write(path):
        with open(path, "w") as f:
            f.write("x")
        os.unlink(path)

    found["home_writable"] = not refused(lambda: write(os.path.join(plan.home, "probe")))
    found["writes_outside_refused"] = all(refused(lambda p=p: write(p)) for p in outside)
    found["hidden_unreadable"] = {d: refused(lambda d=d: _nonempty(d)) for d in plan.hidden}
    found["private_unreadable"] = bool(secret) and refused(lambda: open(secret).close())
    found["network_refused"] = refused(lambda: socket.create_connection(("127.0.0.1", port), timeout=2).close())
    found["pid_namespace"] = os.getpid() <= 3
    status = open("/proc/self/status").read()
    found["capabilities"] = next((line.split()[1] for line in status.splitlines() if line.startswith("CapEff")), "?")
    found["signal_parent_refused"] = refused(lambda: os.kill(os.getppid(), 0)) or os.getppid() == 1
    return found


def _nonempty(d: str) -> None:
    if not os.listdir(d):
        raise OSError(errno.ENOENT, "empty")


def probe(enabled: bool = True) -> dict:
    """Start an isolated child as the worker would be, and try what it can do."""
    home = tempfile.mkdtemp(prefix="grader-isolation-")
    plan = prepare(home, 64, enabled=enabled)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    outside = [os.path.join(os.path.dirname(plan.home), f"grader-probe-{os.getpid()}")]
    if "grader" in sys.modules:
        outside.append(os.path.join(sys.modules["grader"].__path__[0], f".probe-{os.getpid()}"))
    secret = None
    if plan.private:  # a file the worker must not see, where the grading user keeps theirs
        secret = os.path.join(plan.private[0], f".grader-probe-{os.getpid()}")
        open(secret, "w").close()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read)
            os.setsid()
            enter(plan, keep=[write])
            os.write(write, json.dumps(_probe(plan, port, outside, secret)).encode())
        finally:
            os._exit(0)
    os.close(write)
    data = b""
    while chunk := os.read(read, 65536):
        data += chunk
    os.close(read)
    os.waitpid(pid, 0)
    listener.close()
    if secret:
        os.unlink(secret)
    release(plan)
    import shutil
    shutil.rmtree(home, ignore_errors=True)
    found = json.loads(data or b"{}")
    found["cgroup"] = bool(plan.cgroup) and found.get("done", {}).get("cgroup", False)
    found["landlock_abi"] = landlock_abi()
    return found


def describe(enabled: bool = True) -> list[dict]:
    """One row per promise: what, in force or not, how."""
    f = probe(enabled)
    done = f.get("done", {})
    spaces = done.get("namespaces", [])
    landlock = done.get("landlock", 0)
    hidden = f.get("hidden_unreadable", {})
    via_user = " (inside a user namespace)" if "user" in spaces else ""

    def how(*parts):
        return "; ".join(p for p in parts if p) or "-"
    return [
        {"what": "writes outside the worker's home", "in_force": f.get("writes_outside_refused", False),
         "how": how("read-only bind remount of every mount" + via_user if done.get("readonly") else "",
                    f"Landlock ABI {landlock}" if landlock else "")},
        {"what": "reference solution and rubric unreadable", "in_force": bool(hidden) and all(hidden.values()),
         "how": how("empty tmpfs over " + ", ".join(done.get("hidden", [])) if done.get("hidden") else "")},
        {"what": "home directories unreadable (keys, other submissions)",
         "in_force": f.get("private_unreadable", False),
         "how": how("empty tmpfs over " + ", ".join(private_directories()) + "; Python and the grader bound back"
                    + via_user if done.get("private") else "")},
        {"what": "network", "in_force": f.get("network_refused", False),
         "how": how("new network namespace (loopback down)" if "net" in spaces else "",
                    "Landlock TCP bind/connect" if landlock >= 4 else "")},
        {"what": "children die with the worker (even after setsid)",
         "in_force": f.get("pid_namespace", False) or f.get("cgroup", False),
         "how": how("PID namespace whose init dies with the worker" if "pid" in spaces else "",
                    "pids cgroup, killed on close" if f.get("cgroup") else "")},
        {"what": "process count (fork bomb, threads)", "in_force": f.get("cgroup", False) or os.geteuid() != 0,
         "how": how("pids cgroup" if f.get("cgroup") else "",
                    "RLIMIT_NPROC" if os.geteuid() != 0 else "RLIMIT_NPROC (not enforced for root)")},
        {"what": "host devices, /proc of the host", "in_force": bool(done.get("dev")) or os.geteuid() != 0,
         "how": how("tmpfs /dev with null, zero, full, random, urandom" if done.get("dev") else "",
                    "fresh read-only /proc of the PID namespace" if "pid" in spaces else "")},
        {"what": "no privileges", "in_force": f.get("capabilities") == "0000000000000000",
         "how": how("capabilities dropped (bounding set too), no_new_privs" if done.get("capabilities")
                    else ("not root" if os.geteuid() != 0 else ""))},
        {"what": "signals to processes outside the worker", "in_force": f.get("signal_parent_refused", False),
         "how": how("PID namespace" if "pid" in spaces else "", "Landlock signal scope" if landlock >= 6 else "")},
    ]


def main() -> int:
    rows = describe()
    width = max(len(r["what"]) for r in rows)
    for r in rows:
        print(f"{'yes' if r['in_force'] else 'NO ':4} {r['what']:{width}}  {r['how']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
