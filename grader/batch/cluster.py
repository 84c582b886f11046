"""`--scheduler ADDRESS`: the same jobs on a Dask distributed cluster (extra `rdfia-grader[dask]`;
its workers must see CLASS_DIR at the same path). Each task is a `grader.batch.job.grade_job`,
which grades through `grader.api` in the Dask worker's own long-lived grading process."""

from __future__ import annotations


def dask_executor(address: str):
    """(client, executor) for a Dask distributed scheduler; ImportError without the extra."""
    from distributed import Client

    client = Client(address)
    return client, client.get_executor(pure=False)
