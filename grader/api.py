"""The grading API: `grade(path, Options(...))` grades one submission and returns its `Report`.

`grade check`, `grade batch`'s grading processes (also on a Dask cluster), the notebook's
`check()` and the Gradescope autograder all grade through it; the command line is a thin
layer over it (`grader.commands.check`). What grading says as it goes (the notes on how the
submission was read, each result, the protections the platform lacks) reaches the caller
through a `Progress`; nothing is printed here.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

from grader.results import Report, TestResult


@dataclass(frozen=True)
class Options:
    """What changes a grading. `seed` None: the edition's default (seed 0 in the student
    edition, the instructor's secret one otherwise; `resolved`)."""

    seed: int | None = None
    tp: str | None = None  # an assignment's name, or "all"; None: those found
    parts: tuple[str, ...] | None = None  # only these parts (then `tp` is not read)
    timeout: float = 60.0  # seconds allowed to one call of student code

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Options:
        parts = data.get("parts")
        return cls(**dict(data, parts=tuple(parts) if parts else None))

    @property
    def judges_all(self) -> bool:
        """Whether the exit status judges every check graded, or only the started assignments'."""
        return bool(self.tp or self.parts)


class NotGraded(Exception):
    """The submission could not be graded: the message says why, in one line."""


class Progress:
    """What a caller hears while a submission is graded; each method does nothing here."""

    def started(self, submission, selection: str) -> None:
        """The submission is open (`submission.notes`: how it was read) and its workers are
        starting; `selection` says which assignments are graded."""

    def result(self, result: TestResult) -> None:
        """One check's result, in grading order."""

    def weaknesses(self, missing: list[str]) -> None:
        """The protections that the platform refused to the worker."""


def resolved(options: Options) -> Options:
    """`options` with the edition's default seed where it has none; NotGraded when that
    seed cannot be read or drawn."""
    if options.seed is not None:
        return options
    from grader import edition
    from grader.seed import SeedError, default_seed, user_state_dir

    try:
        return dataclasses.replace(options, seed=default_seed(edition(), user_state_dir()))
    except SeedError as e:
        raise NotGraded(str(e)) from None


def grade(
    path: str | os.PathLike,
    options: Options = Options(),
    progress: Progress | None = None,
    zygote=None,
) -> Report:
    """Grade the submission at `path` (a folder, a .ipynb, a .py or a .zip) in sandboxed
    workers; NotGraded when it cannot be. `zygote` forks the workers (`grade batch`'s
    long-lived grading processes); without it, `grade check`'s lanes start their own."""
    from grader import static
    from grader.sandbox import Limits
    from grader.submission import SubmissionError, open_submission

    options, progress = resolved(options), progress or Progress()
    try:
        submission = open_submission(path)
        if not submission.parts:
            raise SubmissionError(
                f"nothing of the lab was found in {path}: no module or notebook "
                f"holds any of {', '.join(submission.lab.part_names)}"
            )
    except SubmissionError as e:
        raise NotGraded(str(e)) from None
    from grader.lanes import Lanes

    parts, line = submission.lab.selection(submission.parts, options.tp, options.parts)
    # The lab's slow imports that this code makes: the workers' zygote makes them once, ahead.
    imports = static.imported(submission, submission.lab.worker_imports)
    limits = Limits(call_seconds=options.timeout)
    lanes = Lanes(path, submission, parts, options.seed, limits, zygote, imports)
    try:
        progress.started(submission, line)
        try:
            report = lanes.grade(on_result=progress.result)
        except Exception as e:
            raise NotGraded(
                f"internal error, the submission was not graded: {type(e).__name__}: {e}"
            ) from e
        progress.weaknesses(lanes.weaknesses)
    finally:
        lanes.close()
    return report
