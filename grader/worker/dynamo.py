"""`torch._dynamo`, loaded only when something needs more of it than eager mode does.

torch.optim's optimizers import `torch._dynamo` at their first step (1.7 s here, more than
torch itself) for two calls that do nothing outside `torch.compile`: a graph break, and
keeping dynamo out of a method. The worker registers a `Placeholder` in its place (`install`):
it answers those two calls as eager mode would, and anything else asked of it (`torch.compile`
needs `optimize`, `config`, ...) imports the real module, which replaces it from then on.
"""

from __future__ import annotations

import importlib
import sys
import types

import torch

NAME = "torch._dynamo"


class Placeholder(types.ModuleType):
    def graph_break(self, msg: str = "") -> None:
        """Outside a compiled function, a graph break is nothing."""

    def disable(self, fn=None, recursive=True, *, reason=None, wrapping=True):
        """Outside `torch.compile`, a function kept out of dynamo is the function itself."""
        return fn if fn is not None else (lambda f: f)

    def __getattr__(self, name: str):  # what the placeholder does not answer: the real module's
        return getattr(_load(), name)


def install() -> None:
    """Once per worker, unless the real module is imported already."""
    if NAME not in sys.modules:
        sys.modules[NAME] = torch._dynamo = Placeholder(NAME, __doc__)


def _load() -> types.ModuleType:
    if isinstance(sys.modules.get(NAME), Placeholder):
        del sys.modules[NAME]
    return importlib.import_module(NAME)  # it sets torch._dynamo to itself
