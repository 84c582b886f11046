"""Notebook front ends in the worker, in their text form (contract, "Submission layout").

Code written in Colab draws widgets (`from tqdm.notebook import tqdm`), which need a
notebook's browser front end and a widget library; the worker has neither. Each such
module is served as its console counterpart under the same names, so a bar prints as text
where Colab draws it, and a loop that shows one runs as in Colab. `get_ipython()`, the
kernel's builtin, gives a shell whose magics and shell lines do nothing.
"""

from __future__ import annotations

import builtins
import importlib
import importlib.abc
import importlib.util
import sys

# A widget module -> (its console counterpart, each name it exports -> the counterpart's).
TEXT_FORMS: dict[str, tuple[str, dict[str, str]]] = {
    "tqdm.notebook": (
        "tqdm.std",
        {"tqdm": "tqdm", "trange": "trange", "tqdm_notebook": "tqdm", "tnrange": "trange"},
    ),
}


class Shell:
    """What `get_ipython()` gives code that runs later, in a function (`!nvidia-smi` or
    `%matplotlib inline` inside `main`): as at the top level, shell lines and magics do not
    run in the worker, and the rest of the function does."""

    def system(self, command: str) -> None:
        pass

    def getoutput(self, command: str, split: bool = True) -> list[str]:
        return []

    def run_line_magic(self, name: str, line: str, _stack_depth: int = 1) -> None:
        pass

    def run_cell_magic(self, name: str, line: str, cell: str) -> None:
        pass


class _TextForms(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path, target=None):
        return importlib.util.spec_from_loader(fullname, self) if fullname in TEXT_FORMS else None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        counterpart, names = TEXT_FORMS[module.__name__]
        console = importlib.import_module(counterpart)
        module.__dict__.update({name: getattr(console, own) for name, own in names.items()})
        module.__all__ = list(names)


def install() -> None:
    """Once per worker, before student code loads."""
    if not any(isinstance(f, _TextForms) for f in sys.meta_path):
        sys.meta_path.insert(0, _TextForms())
    shell = Shell()
    builtins.get_ipython = lambda: shell  # a builtin in a notebook's kernel too
