"""`grade batch`: grade a whole class, in parallel, resumably.

Every entry of CLASS_DIR (a sub-folder, a `.zip` or a `.ipynb`; its name without the
suffix is the student id) is graded as a student's `grade check` grades it (`grader.api.grade`, in a
long-lived grading process; or `Job.command`, a command line of one's own): the verdict is
the same as `grade check`'s, and a submission that breaks the grader (exit 2, a crash, a hang past
`--submission-timeout`) costs only its own row. Only this process writes into OUT.

    job        one student's job, its grading process and its process-tree kill
    server     the long-lived grading process (`grader.api` through `grader.commands.check`)
    discovery  the class folder, content digests, code fingerprints
    reader     the contract's JSON back to a Report
    atomic     whole-or-nothing writes
    store      OUT, resumable
    progress   what is printed
    run        the orchestration
    cluster    Dask

The command, `grade batch`, is `grader.commands.batch`.
"""

from grader.batch.cluster import dask_executor
from grader.batch.discovery import discover, fingerprint
from grader.batch.job import Job, Outcome, grade_job
from grader.batch.run import run
from grader.results import FAILED, OK, Graded

__all__ = [
    "FAILED",
    "OK",
    "Graded",
    "Job",
    "Outcome",
    "dask_executor",
    "discover",
    "fingerprint",
    "grade_job",
    "run",
]
