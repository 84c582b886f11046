"""The parent side of the worker's isolation: what its root holds, and its cgroups.

The worker's file system is an allow-list. `prepare()` lists, in the trusted process,
everything the worker's empty root will hold (`grader.sandbox.child` builds it between
fork and exec), each at the path it has on the host:
- the interpreter and its standard library, the system's shared-library directories;
- every site-packages directory of the interpreter, as an empty tmpfs holding only the
  packages student code may use (`ALLOWED` and what they require), never the grader;
- the worker's own package (`grader/worker`) and the folders of the lab it declares
  (`Lab.worker_folders`: its worker package, its data), each under `__init__.py` files of
  the root's own: never the source tree, the lab's declaration, rubric or oracle;
- its home, a private size-capped tmpfs holding a copy of this student's files.
Nothing else exists for the worker: no `/tmp`, `/home`, `/root`, `.git`, class folder,
other worker's home, host socket or `/etc` file but the loader's cache.
"""

from __future__ import annotations

import glob
import importlib.metadata
import itertools
import os
import pwd
import site
import sys
import sysconfig
import tempfile
from dataclasses import dataclass, field
from functools import cache

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

import grader
from grader.sandbox import cgroup
from grader.sandbox.kernel import LINUX

# What student code may import, with the stdlib (IPython: the notebooks' `display`, `clear_output`).
ALLOWED = ("torch", "numpy", "matplotlib", "tqdm", "ipython")
LIBRARY_DIRS = ("/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib")
HOME_BYTES = 256 << 20
ENGINE_WORKER = "worker"  # of `grader`: the engine's side of the worker


@dataclass
class Plan:
    """What the worker's preexec will set up; made by `prepare` in the trusted process."""

    home: str  # the host folder with the student's files; the same path inside
    root: str | None = None  # an empty folder: the mount point of the worker's root
    binds: list[str] = field(default_factory=list)  # host paths bound read-only, same path
    links: dict[str, str] = field(default_factory=dict)  # symlinks recreated: path -> target
    sites: dict[str, list[str]] = field(default_factory=dict)  # site dir -> the entries kept in it
    worker: str = ""  # the host `grader` package whose `packages` are bound
    packages: list[str] = field(
        default_factory=list
    )  # folders of it, relative: all the worker imports
    home_bytes: int = HOME_BYTES
    processes: int = 256
    cgroups: dict[str, str] = field(default_factory=dict)  # controller -> this worker's group
    enabled: bool = True
    userns: bool = False  # force the unprivileged path (tests)
    uid: int | None = None  # as root: the unprivileged user (and group) it becomes
    done: dict = field(default_factory=dict)  # filled in the child, for isolation.protections()


def _links(path: str, links: dict[str, str]) -> str:
    """Follow `path` to its real file, recording every symlink met on the way."""
    for _ in range(40):
        parent = os.path.realpath(os.path.dirname(path))
        path = os.path.join(parent, os.path.basename(path))
        if not os.path.islink(path):
            return path
        target = os.readlink(path)
        links[path] = target
        path = os.path.join(parent, target)
    raise OSError(f"too many symlinks at {path}")


def _requirements(names) -> list[importlib.metadata.Distribution]:
    """The installed distributions of `names` and of everything they require."""
    found, todo = {}, list(names)
    while todo:
        name = canonicalize_name(todo.pop())
        if name in found:
            continue
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        found[name] = dist
        for text in dist.requires or ():
            try:
                req = Requirement(text)
            except InvalidRequirement:
                continue
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return list(found.values())


def _site_dirs() -> list[str]:
    dirs = set(site.getsitepackages()) | {
        p for p in sys.path if p.endswith(("site-packages", "dist-packages"))
    }
    if site.ENABLE_USER_SITE:
        dirs.add(site.getusersitepackages())
    return [os.path.realpath(d) for d in dirs if os.path.isdir(d)]


def _allowed_entries() -> dict[str, set[str]]:
    """site dir -> the top-level entries (packages, modules, metadata) of the allowed distributions."""
    entries: dict[str, set[str]] = {}
    for dist in _requirements(ALLOWED):
        where = os.path.realpath(str(dist.locate_file("")))
        kept = entries.setdefault(where, set())
        for line in (dist.read_text("RECORD") or "").splitlines():  # faster than dist.files
            top = line.split(",", 1)[0].split("/", 1)[0]
            if top and top not in ("..", "__pycache__") and not top.endswith(".pth"):
                kept.add(top)
    return entries


def _roots(paths) -> list[str]:
    """The paths that are not inside another of them."""
    paths = sorted(set(paths))
    return [
        p for p in paths if not any(p != q and p.startswith(q.rstrip("/") + "/") for q in paths)
    ]


@cache
def _layout() -> tuple[
    tuple[str, ...], tuple[tuple[str, str], ...], tuple[tuple[str, tuple[str, ...]], ...]
]:
    """binds, links and sites: the same for every worker of this process."""
    links: dict[str, str] = {}
    binds = {_links(sys.executable, links)}
    for d in LIBRARY_DIRS:
        if os.path.islink(d):
            links[d] = os.readlink(d)
        elif os.path.isdir(d):
            binds.add(d)
    for name in ("stdlib", "platstdlib"):
        binds.add(os.path.realpath(sysconfig.get_paths()[name]))
    libdir = sysconfig.get_config_var("LIBDIR")  # libpython
    if libdir and os.path.isdir(libdir):
        binds.add(os.path.realpath(libdir))
    for file in (os.path.join(sys.prefix, "pyvenv.cfg"), "/etc/ld.so.cache"):
        if os.path.isfile(file):
            binds.add(os.path.realpath(file))
    allowed = _allowed_entries()
    sites = {d: sorted(allowed.get(d, ())) for d in _site_dirs()}
    for bound in list(binds):  # any other Python's packages inside what is bound: covered, empty
        for pattern in ("*-packages", "python*/*-packages"):
            for d in glob.glob(os.path.join(bound, pattern)):
                if os.path.basename(d) in ("site-packages", "dist-packages"):
                    sites.setdefault(os.path.realpath(d), [])
    return (
        tuple(_roots(binds)),
        tuple(sorted(links.items())),
        tuple(sorted((d, tuple(e)) for d, e in sites.items())),
    )


_counter = itertools.count()


def prepare(home: str, processes: int = 256, enabled: bool = True, memory: int = 6 << 30) -> Plan:
    """Trusted side, before the worker starts: its root's contents, and its cgroups
    (`processes` tasks, `memory` bytes for the whole tree)."""
    if not (LINUX and enabled) or os.environ.get("GRADER_ISOLATION") == "0":
        return Plan(home, processes=processes, enabled=False)
    binds, links, sites = _layout()
    userns = os.environ.get("GRADER_ISOLATION_USERNS") == "1"
    return Plan(
        os.path.realpath(home),
        tempfile.mkdtemp(prefix="grader-root-"),
        list(binds),
        dict(links),
        {d: list(e) for d, e in sites},
        os.path.dirname(os.path.realpath(grader.__file__)),
        packages=worker_packages(),
        processes=processes,
        cgroups=cgroup.make(f"grader-worker-{os.getpid()}-{next(_counter)}", processes, memory),
        userns=userns,
        uid=_nobody() if os.geteuid() == 0 and not userns else None,
    )


def worker_packages() -> list[str]:
    """The folders of `grader` the worker imports: the engine's worker, the lab's declared
    ones (a folder outside the `grader` package is not the worker's to see: left out)."""
    package = os.path.dirname(os.path.realpath(grader.__file__))
    folders = [os.path.realpath(f) for f in _lab_folders()]
    return [ENGINE_WORKER] + [
        os.path.relpath(f, package)
        for f in folders
        if f.startswith(package + os.sep) and os.path.isdir(f)
    ]


def _lab_folders():
    from grader.labs import current

    return current().worker_folders


def _nobody() -> int:
    """The uid (and gid) of a worker graded by root: `nobody`'s, which owns no file."""
    try:
        return pwd.getpwnam("nobody").pw_uid
    except KeyError:
        return 65534


def release(plan: Plan) -> None:
    """Trusted side, after the worker was killed: nothing of it may survive."""
    for path in dict.fromkeys(plan.cgroups.values()):
        cgroup.remove(path)
    if plan.root:
        try:
            os.rmdir(plan.root)  # its mounts were the worker's own: the folder is empty here
        except OSError:
            pass
