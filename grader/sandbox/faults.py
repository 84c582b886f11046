"""What a call to the worker can end in, besides an answer: the student's faults (as the
report tells them) and the grader's own."""

from __future__ import annotations


class GraderFault(Exception):
    """Something about the call failed that is not the student's doing."""


class StudentFault(Exception):
    """A failure of student code, as the report will tell it."""

    def __init__(
        self,
        message: str,
        where: str | None = None,
        traceback: str = "",
        output: str = "",
        function: str | None = None,
    ):
        super().__init__(message)
        self.message, self.where, self.traceback, self.output = message, where, traceback, output
        self.function = function  # the student's function where it happened


class StudentError(StudentFault):
    """Student code raised an exception."""

    def __init__(self, exc_type: str, message: str, **kw):
        super().__init__(f"{exc_type}: {message}" if message else exc_type, **kw)
        self.exc_type = exc_type


class NotImplementedYet(StudentError):
    pass


class NameMissing(StudentFault):
    """The submission does not define a name the rubric calls."""


class WorkerCrashed(StudentFault):
    pass


class CallTimeout(StudentFault):
    pass


def fault_of(error: dict, output: str) -> StudentFault:
    kw = dict(
        where=error.get("where"),
        traceback=error.get("traceback", ""),
        output=output,
        function=error.get("function"),
    )
    if error.get("grader"):
        return NameMissing(error["message"], **kw)
    if error["type"] == "NotImplementedError":
        return NotImplementedYet(error["type"], error["message"], **kw)
    return StudentError(error["type"], error["message"], **kw)
