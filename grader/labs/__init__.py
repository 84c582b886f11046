"""The labs the grader knows. `current()` is the one named by `GRADER_LAB`, by default
the RDFIA practicals: a module name, or the path of a `.py` file, that defines `LAB`
(`grade batch` runs its jobs in other folders: a path there must be absolute)."""
from __future__ import annotations

import functools
import importlib
import importlib.util
import os
from pathlib import Path

from grader.lab import Lab

DEFAULT = "grader.labs.rdfia"


class LabError(Exception):
    pass


@functools.cache
def load(name: str) -> Lab:
    """The `LAB` of module `name`, or of the file `name` when it ends in `.py`."""
    try:
        if name.endswith(".py"):
            spec = importlib.util.spec_from_file_location(f"grader_lab_{Path(name).stem}", name)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {name}")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(name)
        lab = module.LAB
    except (ImportError, OSError, AttributeError) as e:
        raise LabError(f"cannot read the lab {name!r} ({type(e).__name__}: {e})") from None
    if not isinstance(lab, Lab):
        raise LabError(f"{name}: LAB is not a grader.lab.Lab")
    return lab


def current() -> Lab:
    return load(os.environ.get("GRADER_LAB") or DEFAULT)
