"""The run: read the class, keep what is up to date, grade the rest in parallel on an
executor (threads here, or Dask's), save each outcome as it comes, then write the class
files. Ctrl-C or a kill loses only the submissions in flight."""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
from collections import Counter
from pathlib import Path

from grader import written
from grader.batch import job as jobs_in_flight
from grader.batch import verdict
from grader.batch.atomic import atomic_write
from grader.batch.discovery import read_class, scan
from grader.batch.job import Job, Outcome, grade_job
from grader.batch.progress import Log, row_line
from grader.batch.reader import MALFORMED, report_from_json
from grader.batch.store import Store
from grader.labs import current
from grader.render import CLASS
from grader.results import FAILED, Graded


def run(
    class_dir: Path,
    out: Path,
    *,
    jobs: int | None = None,
    seed: int = 0,
    timeout: float = 60.0,
    submission_timeout: float = 1800.0,
    parts: tuple[str, ...] | None = None,
    gradescope: bool = False,
    executor: cf.Executor | None = None,
    command: tuple[str, ...] | None = None,
    stream=None,
    force: bool = False,
) -> tuple[list[Graded], bool]:
    """Grade CLASS_DIR into OUT; returns (one row per student, whether it ran to the end).
    `executor` defaults to `jobs` threads; a given one (Dask's) is not shut down here.
    A grade stored under the same key (`verdict`) is kept, unless `force`. Raises
    `ClassError` when CLASS_DIR is not a class."""
    class_dir, out = Path(class_dir), Path(out)
    parts = tuple(p for p in current().part_names if parts is None or p in parts)
    entries = read_class(class_dir, out)
    marks = verdict.current()  # the grader and the rubric, in each key
    jobs_in_flight.stopping.clear()
    own = executor is None
    if own and command is None:  # this process's grading processes will grade
        jobs_in_flight.warm_up()
    store = Store(out)
    rows: dict[str, Graded] = {}
    todo: list[tuple[Job, Graded]] = []
    why: Counter[str] = Counter()  # why each of `todo` is graded again
    work: dict[
        str, int
    ] = {}  # functions each implements: the most work first, so that the jobs end together
    for sid, path in entries:
        if sid in rows:
            rows[path.name] = Graded(
                path.name,
                path.name,
                FAILED,
                f"not graded: another entry has the same student id `{sid}`",
            )
            continue
        digest, prints, work[sid] = scan(path)
        row = rows[sid] = Graded(sid, path.name, digest=digest, fingerprints=prints)
        job = Job(
            sid, str(path.resolve()), seed, timeout, submission_timeout, parts, gradescope, command
        )
        stored, reason = store.up_to_date(job, digest, verdict.key(job, marks))
        if stored is not None and not force:
            row.report, row.resumed = stored, True
        else:
            todo.append((job, row))
            why[reason or "forced"] += 1
    todo.sort(key=lambda t: -work[t[0].id])  # stable: by id among equals
    log = Log(len(todo), stream)
    if len(todo) < len(rows) or set(why) - {"new"}:  # a rerun
        log.line(rerun_line(len(rows) - len(todo), why))
    executor = executor or cf.ThreadPoolExecutor(max_workers=max(1, jobs or _cores()))
    finished = False
    futures = {}
    try:
        futures = {executor.submit(grade_job, job): (job, row) for job, row in todo}
        for future in cf.as_completed(futures):
            job, row = futures[future]
            try:
                outcome = future.result()
            except Exception as e:  # noqa: BLE001 - e.g. a Dask worker lost
                outcome = Outcome(job.id, error=f"the job failed ({type(e).__name__}: {e})")
            _settle(row, outcome, seed)
            store.save(job, row.digest, outcome, verdict.key(job, marks))
            log.line(row_line(row), advance=True)
        finished = True
    except KeyboardInterrupt:
        for future in futures:
            future.cancel()
        jobs_in_flight.stop_running()
        log.line("interrupted: the submissions in flight are lost; rerun the same command to go on")
    finally:
        log.close()
        if own:
            executor.shutdown(wait=finished, cancel_futures=True)
            jobs_in_flight.close_servers()
    graded = [row for row in rows.values() if row.report is not None or row.status == FAILED]
    write_class_files(graded, out, parts, seed)
    written.after_batch(out, entries)  # the report half: grader/written
    return sorted(rows.values(), key=lambda r: r.id) if finished else graded, finished


def rerun_line(kept: int, why: Counter) -> str:
    """ "12 kept, 3 regraded: 2 rubric changed, 1 submission changed"."""
    regraded = sum(why.values())
    reasons = ", ".join(f"{n} {reason}" for reason, n in why.most_common())
    return f"{kept} kept, {regraded} regraded" + (f": {reasons}" if reasons else "")


def _settle(row: Graded, outcome: Outcome, seed: int) -> None:
    row.seconds = outcome.seconds
    if not outcome.error:
        try:
            row.report = report_from_json(json.loads(outcome.result), seed)
        except MALFORMED as e:
            outcome.error = f"the grader's JSON could not be read ({type(e).__name__}: {e})"
    if outcome.error:
        row.status, row.error, row.report = FAILED, outcome.error, None


def write_class_files(rows: list[Graded], out: Path, parts: tuple[str, ...], seed: int) -> None:
    rows = sorted(rows, key=lambda r: r.id)
    for name, fmt in CLASS.items():
        atomic_write(out / name, fmt.render(rows, parts, seed=seed), fmt.encoding)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
