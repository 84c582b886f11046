"""The worker's side of its isolation, between fork and exec: `enter(plan)`.

On Linux, as root or (not root) inside a user namespace mapping the user to itself:
new mount, network, IPC, UTS and PID namespaces; the allow-list root that
`grader.sandbox.plan` lists, built on an empty tmpfs and pivoted into, every mount of it
read-only but the home (a size-capped tmpfs) and /dev/shm; a fresh read-only /proc of the
worker's PID namespace; its cgroups (`grader.sandbox.cgroup`); as root, an unprivileged
user (`plan.uid`, no supplementary groups) once the root is built; every capability
dropped, Landlock (no writes outside the home, no TCP, no signals or abstract sockets
outside) and last the syscall filter (`grader.sandbox.syscalls`) before exec.

Every step the platform refuses is skipped and recorded in `plan.done`: the trusted side
says which protections are off. No exception escapes.
"""

from __future__ import annotations

import os
import re
import shutil
import signal

from grader.sandbox import cgroup, syscalls
from grader.sandbox import kernel as k
from grader.sandbox.plan import Plan

DEVICES = ("null", "zero", "full", "random", "urandom")


def _try(done: dict, key: str, fn, *args) -> bool:
    try:
        fn(*args)
        done[key] = True
    except Exception:  # noqa: BLE001 - a platform that refuses a step skips it
        done[key] = False
    return done[key]


def _unshare(plan: Plan, root: bool) -> set[str]:
    """Enter new namespaces; which ones."""
    libc = k.libc()
    got: set[str] = set()
    if not root:
        uid, gid = os.geteuid(), os.getegid()
        if libc.unshare(k.CLONE_NEWUSER) != 0:
            return got
        try:
            for name, text in (
                ("setgroups", "deny"),
                ("uid_map", f"{uid} {uid} 1"),
                ("gid_map", f"{gid} {gid} 1"),
            ):
                with open(f"/proc/self/{name}", "w") as f:
                    f.write(text)
        except OSError:
            return got
        got.add("user")
    for name, flag in (
        ("mnt", k.CLONE_NEWNS),
        ("net", k.CLONE_NEWNET),
        ("ipc", k.CLONE_NEWIPC),
        ("uts", k.CLONE_NEWUTS),
        ("pid", k.CLONE_NEWPID),
    ):
        if libc.unshare(flag) == 0:
            got.add(name)
    return got


def _under(path: str, roots) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def _mountinfo() -> list[tuple[str, set[str]]]:
    entries = []
    for line in open("/proc/self/mountinfo"):
        fields = line.split()
        point = re.sub(
            r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4]
        )  # \040: a space
        entries.append((point, set(fields[5].split(","))))
    return entries


class _Root:
    """The worker's root under construction at `plan.root`. Nothing is ever created inside a
    host folder that is bound in: only in the root's own tmpfs mounts."""

    def __init__(self, plan: Plan):
        self.plan, self.top = plan, plan.root
        self.ours = [plan.root] + [self.top + d for d in plan.sites]  # tmpfs of the root's own

    def inside(self, path: str) -> str:
        return self.top + path

    def _make(self, path: str, directory: bool) -> None:
        if os.path.lexists(path):
            return
        parent = os.path.dirname(path)
        if _under(parent, [self.top + b for b in self.plan.binds]) and not _under(
            parent, self.ours[1:]
        ):
            raise OSError(f"{path}: would be created in a host folder")
        os.makedirs(path if directory else os.path.dirname(path), exist_ok=True)
        if not directory:
            open(path, "x").close()

    def bind(self, source: str, target: str) -> None:
        self._make(target, os.path.isdir(source))
        k.mount(source, target, None, k.MS_BIND | k.MS_REC)

    def tmpfs(self, target: str, options: str) -> None:
        self._make(target, True)
        k.mount("tmpfs", target, "tmpfs", k.MS_NOSUID | k.MS_NODEV, options)

    def link(self, path: str, target: str) -> None:
        if not os.path.lexists(path):
            self._make(os.path.dirname(path), True)
            os.symlink(target, path)

    def build(self) -> None:
        plan = self.plan
        k.mount(None, "/", None, k.MS_REC | k.MS_PRIVATE)  # nothing we do propagates to the host
        k.mount("tmpfs", self.top, "tmpfs", k.MS_NOSUID | k.MS_NODEV, "size=1m,mode=755")
        for path in plan.binds:
            self.bind(path, self.inside(path))
        for site, entries in plan.sites.items():  # every site dir: only the allowed packages
            target = self.inside(site)
            if os.path.isdir(target) or not _under(target, [self.top + b for b in plan.binds]):
                self.tmpfs(target, "size=64k,mode=755")
                for entry in entries:
                    if os.path.lexists(os.path.join(site, entry)):
                        self.bind(os.path.join(site, entry), os.path.join(target, entry))
        package = self.inside(plan.worker)  # `import grader.worker`, and nothing else of the grader
        self._make(os.path.join(package, "__init__.py"), False)
        for sub in plan.packages:  # and the lab's folders, under empty packages of the root's own
            parents = os.path.dirname(sub)
            while parents:
                self._make(os.path.join(package, parents, "__init__.py"), False)
                parents = os.path.dirname(parents)
            self.bind(os.path.join(plan.worker, sub), os.path.join(package, sub))
        for path, target in plan.links.items():
            self.link(self.inside(path), target)
        for name in DEVICES:
            self.bind(f"/dev/{name}", self.inside(f"/dev/{name}"))
        for name, target in (
            ("fd", "/proc/self/fd"),
            ("stdin", "/proc/self/fd/0"),
            ("stdout", "/proc/self/fd/1"),
            ("stderr", "/proc/self/fd/2"),
        ):
            self.link(self.inside(f"/dev/{name}"), target)
        self.tmpfs(self.inside("/dev/shm"), "mode=1777,size=64m")
        self._make(self.inside("/proc"), True)
        home = self.inside(plan.home)
        owner = f",uid={plan.uid},gid={plan.uid}" if plan.uid is not None else ""
        self.tmpfs(home, f"size={plan.home_bytes},mode=700{owner}")
        shutil.copytree(plan.home, home, dirs_exist_ok=True, symlinks=True)
        if plan.uid is not None:  # the worker's user owns its home, and nothing else
            for folder, _, files in os.walk(home):
                for name in [folder, *(os.path.join(folder, f) for f in files)]:
                    os.lchown(name, plan.uid, plan.uid)
        self.readonly()

    def readonly(self) -> None:
        """Every mount of the root read-only but the home and /dev/shm; the flags that the
        kernel locked on a bound mount (nosuid, nodev, ...) are repeated, or it refuses."""
        writable = [self.inside(self.plan.home), self.inside("/dev/shm")]
        for point, options in _mountinfo():
            if not _under(point, [self.top]) or _under(point, writable):
                continue
            flags = k.MS_REMOUNT | k.MS_BIND | k.MS_RDONLY
            for option in options:
                flags |= k.MOUNT_FLAGS.get(option, 0)
            k.mount(None, point, None, flags)


def _settle(plan: Plan, done: dict, pid_namespace: bool) -> None:
    """Last in the mount namespace: a fresh /proc (in a PID namespace), then into the root."""
    rooted = done.get("root", False)
    if pid_namespace:
        _try(
            done,
            "proc",
            k.mount,
            "proc",
            (plan.root if rooted else "") + "/proc",
            "proc",
            k.MS_NOSUID | k.MS_NODEV | k.MS_NOEXEC | k.MS_RDONLY,
        )
    if rooted:
        _try(done, "pivot", k.pivot_root, plan.root)
        os.chdir(plan.home)


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


def _init_chain(keep, settle) -> None:
    """After unshare(CLONE_NEWPID): fork the namespace's init, which forks the worker.

    This process (the one the trusted side started) and the init only wait and then end
    as the worker ended; only the worker returns from here. The init dies with this
    process (PR_SET_PDEATHSIG), and every process of the namespace dies with the init.
    `settle()` runs in the init, the first process of the new PID namespace.
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
    k.die_with_parent()
    os.close(read)
    settle()
    worker = os.fork()
    if worker == 0:
        os.close(write)
        return
    try:
        _drop_capabilities()  # the init needs none: it only waits
    except Exception:  # noqa: BLE001
        pass
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


def _drop_capabilities(uid: int | None = None) -> None:
    """Every capability, the bounding set too; `uid`: first become that user, without groups."""
    last = int(open("/proc/sys/kernel/cap_last_cap").read()) if os.path.exists("/proc/sys") else 63
    for cap in range(last + 1):
        try:
            k.prctl(k.PR_CAPBSET_DROP, cap)
        except OSError:
            pass
    try:
        k.prctl(k.PR_CAP_AMBIENT, 4)  # PR_CAP_AMBIENT_CLEAR_ALL
    except OSError:
        pass
    if uid is not None:  # the kernel clears the capabilities of a root that becomes a user
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    header, data = k.CapHeader(0x20080522, 0), (k.CapData * 2)()
    k.check(k.libc().capset(k.ctypes.byref(header), k.ctypes.byref(data)))


def _landlock(plan: Plan, abi: int) -> None:
    libc, ctypes = k.libc(), k.ctypes
    write = k.LL_WRITE_FILE | k.LL_REMOVE_DIR | k.LL_REMOVE_FILE | k.LL_MAKE
    write |= (k.LL_REFER if abi >= 2 else 0) | (k.LL_TRUNCATE if abi >= 3 else 0)
    attr = k.RulesetAttr(
        write,
        k.LL_NET_BIND_TCP | k.LL_NET_CONNECT_TCP if abi >= 4 else 0,
        k.LL_SCOPE_ABSTRACT_UNIX | k.LL_SCOPE_SIGNAL if abi >= 6 else 0,
    )
    ruleset = k.check(
        libc.syscall(
            k.SYS_LANDLOCK_CREATE_RULESET,
            ctypes.byref(attr),
            ctypes.c_size_t(ctypes.sizeof(attr)),
            ctypes.c_uint32(0),
        )
    )
    try:
        file_rights = k.LL_WRITE_FILE | (k.LL_TRUNCATE if abi >= 3 else 0)
        for path, rights in (
            (plan.home, write),
            ("/dev/shm", write),
            ("/dev/null", file_rights),
            ("/dev/full", file_rights),
            ("/dev/zero", file_rights),
        ):
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                rule = k.PathBeneath(rights, fd)
                libc.syscall(
                    k.SYS_LANDLOCK_ADD_RULE,
                    ctypes.c_int(ruleset),
                    ctypes.c_int(1),
                    ctypes.byref(rule),
                    ctypes.c_uint32(0),
                )
            finally:
                os.close(fd)
        k.prctl(k.PR_SET_NO_NEW_PRIVS, 1)
        k.check(
            libc.syscall(k.SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0))
        )
    finally:
        os.close(ruleset)


def enter(plan: Plan, then=None, keep=()) -> dict:
    """In the worker's preexec: isolate it; `then()` runs last while still privileged.

    May fork (a PID namespace needs an init): only the process that goes on to become
    the worker returns. `keep`: file descriptors the waiting processes keep open.
    """
    done = plan.done
    if not (k.LINUX and plan.enabled):
        if then:
            then()
        return done
    spaces: set[str] = set()
    root = os.geteuid() == 0 and not plan.userns
    try:  # every step degrades on its own: the worker still starts
        if plan.cgroups:
            _try(done, "cgroup", cgroup.join, plan.cgroups.values())
            done["cgroups"] = sorted(plan.cgroups) if done["cgroup"] else []
        spaces = _unshare(plan, root)
        done["namespaces"] = sorted(spaces)
        if "mnt" in spaces:
            _try(done, "root", _Root(plan).build)
        settle = lambda: _settle(plan, done, "pid" in spaces)  # noqa: E731
        if "pid" in spaces:
            _init_chain(keep, settle)
        else:
            settle()
    except Exception:  # noqa: BLE001
        pass
    if then:
        then()
    try:
        if root or "user" in spaces:  # a user only in a root built for it: its home is its own
            user = plan.uid if root and done.get("root") else None
            _try(done, "capabilities", _drop_capabilities, user)
        done["uid"] = os.getuid()
        abi = k.landlock_abi()
        done["landlock"] = abi if abi and _try(done, "landlock_ok", _landlock, plan, abi) else 0
        _try(done, "no_new_privs", k.prctl, k.PR_SET_NO_NEW_PRIVS, 1)
        _try(done, "seccomp", syscalls.install)
    except Exception:  # noqa: BLE001
        pass
    return done
