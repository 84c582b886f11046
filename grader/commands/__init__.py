"""The `grade` commands, one module each, each a thin `main(args) -> int` over the API
(`grader.api`) or the library: `grader.cli` parses the arguments and calls it.

    check       grade one submission (`grader.api.grade`)
    batch       grade a class (`grader.batch`)
    review      mark the written answers of a batch (`grader.written`)
    init        copy the student template (`grader.starter`)
    list        the checks (`grader.catalogue`)
    isolation   what the sandbox isolates here (`grader.sandbox.isolation`)
    release     the student edition's wheel (`grader.release`)
    gradescope  a Gradescope autograder zip (`grader.gradescope.build`)
"""

from __future__ import annotations

import importlib

NAMES = ("check", "batch", "review", "init", "list", "isolation", "release", "gradescope")


def run(args) -> int:
    """The exit status of the command `args.command`, imported only when it runs."""
    if args.command not in NAMES:
        return 2
    return importlib.import_module(f"grader.commands.{args.command}").main(args)
