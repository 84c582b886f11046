"""The `grade` command. Thin: it parses arguments and calls one `main` per command."""

from __future__ import annotations

import argparse
import math
import os
import sys

from grader import edition, version
from grader.expected import PUBLIC_SEED
from grader.lab import titles
from grader.labs import LabError, current
from grader.render import REPORT

CHECK_EXITS = (
    "exit status: 0 when every check passed, 1 when any did not, 2 when the grader could not run "
    "(bad arguments, unreadable submission, a file that cannot be written)"
)
BATCH_EXITS = (
    "exit status: 0 when every submission was graded (whatever its score), 1 when any failed to "
    "grade (its row in grades.csv says why), 2 when the batch could not start, 130 when interrupted "
    "(rerun the same command to go on)"
)


def _positive(kind):
    """An argparse type: a finite number above 0 (a time limit, a count)."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not (math.isfinite(value) and value > 0):
            raise argparse.ArgumentTypeError(f"must be above 0: {text!r}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"must be 0 or more: {text!r}")
    return value


def parser() -> argparse.ArgumentParser:
    lab = current()
    p = argparse.ArgumentParser(
        prog="grade", description=f"Autograder for the {lab.title}: {titles(lab.assignments)}."
    )
    p.add_argument(
        "--version", action="version", version=f"grade {version()} ({edition()} edition)"
    )
    commands = p.add_subparsers(dest="command", required=True)
    grading = argparse.ArgumentParser(add_help=False)  # what `check` and `batch` share
    grading.add_argument(
        "--seed",
        type=_seed,
        default=None,
        help="seed of the test inputs (default: 0 in the student edition; in the instructor's, "
        "a secret one drawn once, kept in OUT for batch, per user for check)",
    )
    grading.add_argument(
        "--timeout",
        type=_positive(float),
        default=60.0,
        metavar="S",
        help="seconds allowed to one call of student code (default: %(default)g)",
    )
    grading.add_argument(
        "--tp",
        choices=[a.name for a in lab.assignments] + ["all"],
        help="grade this assignment (default: those of which a part is found; all in batch)",
    )
    grading.add_argument(
        "--parts",
        nargs="+",
        action="extend",
        metavar="PART",
        help=f"grade only these parts, of {' '.join(lab.part_names)}, separated by "
        "spaces or commas (default: those of --tp)",
    )
    check = commands.add_parser(
        "check",
        parents=[grading],
        epilog=CHECK_EXITS,
        help="grade one submission (a folder, a .ipynb or a .zip)",
    )
    check.add_argument("path", nargs="?", help="the submission")  # required: see _parts_then_path
    for name, fmt in REPORT.items():
        default = "reports/NAME.html" if name == "html" else "not written"
        check.add_argument(f"--{name}", metavar="FILE", help=f"{fmt.help} (default: {default})")
    check.add_argument(
        "--quiet", action="store_true", help="print the summary line only (default: off)"
    )
    check.add_argument(
        "--open", action="store_true", help="open the HTML report in the browser (default: off)"
    )
    batch = commands.add_parser(
        "batch",
        parents=[grading],
        epilog=BATCH_EXITS,
        help="grade every submission of a class folder, in parallel",
    )
    batch.add_argument(
        "class_dir",
        metavar="CLASS_DIR",
        nargs="?",
        help="one sub-folder, .zip or .ipynb a student, its name the student id; "
        'or Moodle\'s "Download all submissions" zip or folder',
    )
    batch.add_argument(
        "--out",
        required=True,
        metavar="OUT",
        help="where results/, reports/, grades.csv and summary.html go (required)",
    )
    batch.add_argument(
        "--jobs",
        type=_positive(int),
        default=None,
        help="submissions graded at once (default: the number of cores)",
    )
    batch.add_argument(
        "--submission-timeout",
        type=_positive(float),
        default=1800.0,
        metavar="S",
        help="seconds allowed to grade one whole submission before it is killed (default: %(default)g)",
    )
    batch.add_argument(
        "--gradescope", action="store_true", help="also write OUT/gradescope/ID.json (default: off)"
    )
    batch.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="send the jobs to this Dask scheduler, needs rdfia-grader[dask] (default: local threads)",
    )
    batch.add_argument(
        "--force",
        action="store_true",
        help="grade everyone again, even what a rerun would keep (default: off)",
    )
    batch.add_argument(
        "--moodle-worksheet",
        metavar="FILE",
        help="Moodle's grading worksheet (CSV) of the assignment: write it filled "
        "into OUT (default: none)",
    )
    batch.add_argument(
        "--weak-isolation",
        action="store_true",
        help="grade even where the sandbox lacks a protection, which grade isolation lists (default: off)",
    )
    review = commands.add_parser(
        "review", help="instructor: mark the written answers of a batch, in the browser"
    )
    review.add_argument("out", metavar="OUT", help="the --out folder of `grade batch`")
    review.add_argument("--port", type=int, default=0, help="the local port (default: a free one)")
    review.add_argument(
        "--open", action="store_true", help="open the page in the browser (default: off)"
    )
    init = commands.add_parser(
        "init", help="copy the student template (notebooks or modules) to start from"
    )
    init.add_argument(
        "folder",
        nargs="?",
        default=f"{lab.name}-tp",
        metavar="FOLDER",
        help="a new or empty folder (default: %(default)s)",
    )
    init.add_argument(
        "--layout",
        choices=("notebooks", "modules"),
        default="notebooks",
        help="the parts as the course's notebooks or as modules (default: %(default)s)",
    )
    commands.add_parser("list", help="list the checks: points, handout question and assignment")
    commands.add_parser("isolation", help="show what the sandbox isolates on this machine")
    release = commands.add_parser(
        "release", help="instructor: write the student edition's wheel into OUT"
    )
    release.add_argument("out", metavar="OUT", help="the folder the wheel is written to")
    gradescope = commands.add_parser(
        "gradescope", help="instructor: write a Gradescope autograder zip to OUT"
    )
    gradescope.add_argument("out", metavar="OUT", help="the zip to write, e.g. autograder.zip")
    gradescope.add_argument(
        "--seed",
        type=_seed,
        default=None,
        help="the seed it grades (default: a secret one, drawn now, kept in the zip)",
    )
    gradescope.add_argument(
        "--hidden-visibility",
        default="after_published",
        choices=("hidden", "after_due_date", "after_published", "visible"),
        help="when students see the checks marked hidden (default: %(default)s)",
    )
    gradescope.add_argument(
        "--timeout",
        type=_positive(float),
        default=60.0,
        metavar="S",
        help="seconds allowed to one call of student code (default: %(default)g)",
    )
    gradescope.add_argument(
        "--tp",
        choices=[a.name for a in lab.assignments],
        help="grade this assignment (default: those of which a part is found)",
    )
    return p


def _parts_then_path(p: argparse.ArgumentParser, args) -> argparse.Namespace:
    """`grade check --parts tp1_manual my-tp`: `--parts` takes every word up to the next
    option, so a last word that names no part is the submission (or the class folder)."""
    where = next((name for name in ("path", "class_dir") if hasattr(args, name)), None)
    if where is None:
        return args
    names = current().part_names
    parts = [q for value in args.parts or () for q in value.split(",") if q]
    if getattr(args, where) is None and parts and parts[-1] not in names:
        setattr(args, where, parts.pop())
    if getattr(args, where) is None:
        p.error(f"the following arguments are required: {where.replace('class_dir', 'CLASS_DIR')}")
    if unknown := [q for q in parts if q not in names]:
        p.error(
            f"argument --parts: invalid choice: {unknown[0]!r} (choose from {', '.join(names)})"
        )
    args.parts = parts or None
    return args


def main(argv: list[str] | None = None) -> int:
    try:
        p = parser()
        return run(_parts_then_path(p, p.parse_args(argv)))
    except LabError as e:
        print(f"grade: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `grade check . | head`: the reader left, the files are written
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 1


def run(args) -> int:
    if getattr(args, "seed", None) not in (None, PUBLIC_SEED) and edition() == "student":
        print(
            f"grade: the student edition grades seed {PUBLIC_SEED} only; other seeds are graded by the instructor",
            file=sys.stderr,
        )
        return 2
    if args.command == "check" and args.seed is None:  # batch keeps its own, in OUT
        from grader.seed import SeedError, default_seed, user_state_dir

        try:
            args.seed = default_seed(edition(), user_state_dir())
        except SeedError as e:
            print(f"grade: {e}", file=sys.stderr)
            return 2
    from grader import commands

    return commands.run(args)


def entry() -> None:
    """The `grade` command. `check` ends without the interpreter's teardown of torch and
    pytest (a second, after every file is written and flushed: it has nothing left to do)."""
    code = main()
    if sys.argv[1:2] == ["check"]:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except OSError:  # the reader left: the files are written
                pass
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    entry()
