"""The labs the grader knows. `current()` is the one named by `GRADER_LAB` (a module name,
or the path of a `.py` file, that defines `LAB`; `grade batch` runs its jobs in other
folders: a path there must be absolute), else the one an installed distribution declares in
the entry point group `grader.labs`, else the RDFIA practicals."""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType

from grader.lab import Lab

DEFAULT = "grader.labs.rdfia"  # the one lab this engine names: its default
GROUP = "grader.labs"


class LabError(Exception):
    pass


@functools.cache
def module(name: str) -> ModuleType:
    """Module `name`, or the file `name` when it ends in `.py` (a lab's hook, or its LAB)."""
    if not name.endswith(".py"):
        return importlib.import_module(name)
    spec = importlib.util.spec_from_file_location(f"grader_lab_{Path(name).stem}", name)
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


@functools.cache
def load(name: str) -> Lab:
    """The `LAB` of module `name`, or of the file `name` when it ends in `.py`."""
    try:
        lab = module(name).LAB
    except (ImportError, OSError, AttributeError) as e:
        raise LabError(f"cannot read the lab {name!r} ({type(e).__name__}: {e})") from None
    if not isinstance(lab, Lab):
        raise LabError(f"{name}: LAB is not a grader.lab.Lab")
    return lab


def current() -> Lab:
    return load(os.environ.get("GRADER_LAB") or _installed() or DEFAULT)


@functools.cache
def _installed() -> str | None:
    """The module of the first lab an installed distribution declares (`grader.labs`)."""
    found = sorted(entry_points(group=GROUP), key=lambda e: e.name)
    return found[0].module if found else None


def oracle(lab: Lab | None = None) -> ModuleType:
    """The lab's oracle (instructor-only): the module its `oracle` names."""
    lab = lab or current()
    if not lab.oracle:
        raise LabError(f"lab {lab.name} declares no oracle")
    return module(lab.oracle)


def instructor_only(lab: Lab | None = None) -> list[Path]:
    """What of the lab the student edition leaves out and the worker never sees: its
    reference, its oracle, its written questions' rubric."""
    lab = lab or current()
    paths = [Path(lab.reference)] + ([Path(lab.questions)] if lab.questions else [])
    if lab.oracle:
        if lab.oracle.endswith(".py"):
            paths.append(Path(lab.oracle))
        else:
            spec = importlib.util.find_spec(lab.oracle)
            if spec and spec.submodule_search_locations:
                paths.append(Path(spec.submodule_search_locations[0]))
            elif spec and spec.origin:
                paths.append(Path(spec.origin))
    return paths
