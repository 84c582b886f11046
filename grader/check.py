"""`from grader import check; check()` in a notebook: this module is also the notebook's one
call, `grader.inline.check` (the `grade check` command is `grader.commands.check`)."""

from __future__ import annotations

import sys
import types


class _CallableModule(types.ModuleType):
    def __call__(self, *args, **kwargs):
        from grader.inline import check

        return check(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
