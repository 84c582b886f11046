"""`grade batch CLASS_DIR --out OUT`: the command. Exit status: 0 when every submission was
graded (whatever its score), 1 when any failed to grade, 2 when the batch could not start,
130 when interrupted (Ctrl-C, or `kill`: SIGTERM stops like Ctrl-C)."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

from grader import edition
from grader.batch.cluster import dask_executor
from grader.batch.discovery import ClassError
from grader.batch.run import run
from grader.labs import current
from grader.results import FAILED
from grader.seed import SeedError, default_seed


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(args) -> int:
    class_dir, out = Path(args.class_dir), Path(args.out)
    if not class_dir.exists():
        print(f"grade: no such folder or zip: {class_dir}", file=sys.stderr)
        return 2
    worksheet = Path(args.moodle_worksheet) if getattr(args, "moodle_worksheet", None) else None
    if worksheet is not None and not worksheet.is_file():
        print(f"grade: no such grading worksheet: {worksheet}", file=sys.stderr)
        return 2
    if worksheet is not None and not _is_moodle(class_dir):
        print(
            f'grade: --moodle-worksheet needs Moodle\'s "Download all submissions" (zip or folder) '
            f"as the class; {class_dir} is not one",
            file=sys.stderr,
        )
        return 2
    from grader.sandbox import isolation

    if not args.weak_isolation and (missing := isolation.missing()):
        print(
            f"grade: the sandbox lacks here: {'; '.join(missing)}. Students could read each other's files: "
            "run as root or where user namespaces are allowed, or pass --weak-isolation",
            file=sys.stderr,
        )
        return 2
    if args.seed is None:  # drawn once for OUT, and reused by every later run on it
        try:
            args.seed = default_seed(edition(), out)
        except SeedError as e:
            print(f"grade: {e}", file=sys.stderr)
            return 2
    previous = None
    if threading.current_thread() is threading.main_thread():  # `kill` stops like Ctrl-C
        previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return _main(args, class_dir, out, worksheet)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _is_moodle(class_dir: Path) -> bool:
    from grader.batch import moodle

    try:
        return moodle.is_moodle(class_dir)
    except moodle.MoodleError:
        return False


def _parts(args) -> tuple[str, ...]:
    """The parts of `--tp` (by default all), or of `--parts` among them: the same for every student."""
    return current().selection((), args.tp or "all", args.parts)[0]


def _main(args, class_dir: Path, out: Path, worksheet: Path | None) -> int:
    client = executor = None
    if args.scheduler:
        try:
            client, executor = dask_executor(args.scheduler)
        except ImportError:
            print(
                "grade: --scheduler needs Dask: pip install 'rdfia-grader[dask]'", file=sys.stderr
            )
            return 2
        except (OSError, TimeoutError) as e:
            print(
                f"grade: cannot reach the Dask scheduler at {args.scheduler}: {e}", file=sys.stderr
            )
            return 2
    try:
        rows, finished = run(
            class_dir,
            out,
            jobs=args.jobs,
            seed=args.seed,
            timeout=args.timeout,
            submission_timeout=args.submission_timeout,
            parts=_parts(args),
            gradescope=args.gradescope,
            executor=executor,
            force=getattr(args, "force", False),
        )
    except ClassError as e:
        print(f"grade: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # while reading the class, before any grading
        print("\ngrade: interrupted before grading started", file=sys.stderr)
        return 130
    finally:
        if client is not None:
            client.close()
    failed = [r for r in rows if r.status == FAILED]
    print(
        f"\n{len(rows) - len(failed)} graded, {len(failed)} failed to grade"
        f"{'' if finished else ' (interrupted)'}: {out / 'grades.csv'}, {out / 'summary.html'}"
    )
    if not finished:
        return 130
    if worksheet is not None:
        from grader.batch import worksheet as moodle_worksheet

        try:
            print(moodle_worksheet.main(worksheet, class_dir, rows, out))
        except moodle_worksheet.WorksheetError as e:
            print(f"grade: {e}", file=sys.stderr)
            return 2
    return 1 if failed else 0
