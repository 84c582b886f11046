"""The trusted side of the sandbox: the student's code runs in a worker process, and
the rubric talks to it through `StudentPart` proxies over a pickle-free channel."""

from grader.sandbox.faults import (
    CallTimeout,
    NameMissing,
    NotImplementedYet,
    StudentError,
    StudentFault,
    WorkerCrashed,
)
from grader.sandbox.limits import Limits
from grader.sandbox.proxy import Remote, StudentPart
from grader.sandbox.session import Sandbox

__all__ = [
    "CallTimeout",
    "Limits",
    "NameMissing",
    "NotImplementedYet",
    "StudentPart",
    "Remote",
    "Sandbox",
    "StudentError",
    "StudentFault",
    "WorkerCrashed",
]
