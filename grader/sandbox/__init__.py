"""The trusted side of the sandbox: the student's code runs in a worker process, and
the rubric talks to it through `Part` proxies over a pickle-free channel."""
from grader.sandbox.process import (
                                    CallTimeout,
                                    Limits,
                                    NameMissing,
                                    NotImplementedYet,
                                    Sandbox,
                                    StudentError,
                                    StudentFault,
                                    WorkerCrashed,
)
from grader.sandbox.proxy import Part, Remote

__all__ = ["CallTimeout", "Limits", "NameMissing", "NotImplementedYet", "Part", "Remote", "Sandbox",
           "StudentError", "StudentFault", "WorkerCrashed"]
