"""The `grade` command. Thin: it parses arguments and calls one `main` per command."""
from __future__ import annotations

import argparse
import os
import sys

from grader.expected import PUBLIC_SEED, edition
from grader.labs import LabError, current


def parser() -> argparse.ArgumentParser:
    lab = current()
    p = argparse.ArgumentParser(prog="grade", description="Autograder for the RDFIA practicals TP 1-ab and TP 1-cd.")
    commands = p.add_subparsers(dest="command", required=True)
    grading = argparse.ArgumentParser(add_help=False)  # what `check` and `batch` share
    grading.add_argument("--seed", type=int, default=0, help="seed of the test inputs (default 0)")
    grading.add_argument("--timeout", type=float, default=60.0, help="seconds allowed to one call of student code")
    grading.add_argument("--tp", choices=[a.name for a in lab.assignments] + ["all"],
                         help="grade this assignment (default: those of which a part is found; all in batch)")
    grading.add_argument("--parts", nargs="+", choices=lab.part_names, metavar="PART",
                         help=f"grade only these parts ({' '.join(lab.part_names)})")
    check = commands.add_parser("check", parents=[grading], help="grade one submission (a folder, a .ipynb or a .zip)")
    check.add_argument("path", help="the submission")
    check.add_argument("--json", metavar="FILE", help="write the results as JSON (the contract's format)")
    check.add_argument("--junit", metavar="FILE", help="write JUnit XML, one testcase per check (for CI)")
    check.add_argument("--gradescope", metavar="FILE", help="write Gradescope's results.json")
    check.add_argument("--html", metavar="FILE", help="where to write the HTML report (default reports/NAME.html)")
    batch = commands.add_parser("batch", parents=[grading], help="grade every submission of a class folder, in parallel")
    batch.add_argument("class_dir", metavar="CLASS_DIR",
                       help="one sub-folder, .zip or .ipynb a student; its name is the student id")
    batch.add_argument("--out", required=True, metavar="OUT",
                       help="where results/, reports/, grades.csv and summary.html go")
    batch.add_argument("--jobs", type=int, default=None,
                       help="submissions graded at once (default: the number of cores)")
    batch.add_argument("--submission-timeout", type=float, default=1800.0, metavar="S",
                       help="seconds allowed to grade one whole submission before it is killed (default 1800)")
    batch.add_argument("--gradescope", action="store_true", help="also write OUT/gradescope/ID.json")
    batch.add_argument("--scheduler", metavar="ADDRESS",
                       help="send the jobs to this Dask scheduler (needs rdfia-grader[dask])")
    commands.add_parser("isolation", help="show what the sandbox isolates on this machine")
    release = commands.add_parser("release", help="instructor: write the student edition's wheel into OUT")
    release.add_argument("out", metavar="OUT", help="the folder the wheel is written to")
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        return run(parser().parse_args(argv))
    except LabError as e:
        print(f"grade: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `grade check . | head`: the reader left, the files are written
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 1


def run(args) -> int:
    if getattr(args, "seed", PUBLIC_SEED) != PUBLIC_SEED and edition() == "student":
        print(f"grade: the student edition grades seed {PUBLIC_SEED} only; other seeds are graded by the instructor",
              file=sys.stderr)
        return 2
    if args.command == "release":
        from grader import release
        return release.main(args)
    if args.command == "check":
        from grader import check
        return check.main(args)
    if args.command == "batch":
        from grader import batch
        return batch.main(args)
    if args.command == "isolation":
        from grader.sandbox import isolation
        return isolation.main()
    return 2


if __name__ == "__main__":
    sys.exit(main())
