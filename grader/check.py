"""`grade check PATH`: grade one submission and write what was asked for.

Exit status (the contract's "What the grader answers"): 0 when every check passed, 1 when
any did not, 2 when the grader could not run or a file could not be written; each
reason in one line. A submission that cannot be graded still gets the `on_error` files
(JSON, JUnit, Gradescope) with score 0 and the reason, so that a platform shows it.
"""
from __future__ import annotations

import sys
import types
import webbrowser
from pathlib import Path

from grader import static
from grader.lab import titles
from grader.render import REPORT, Ahead, inert
from grader.results import Report
from grader.submission import SubmissionError, open_submission, submission_name


def main(args, zygote=None) -> int:
    """`zygote`: forks the workers (`grade batch`'s long-lived grading processes)."""
    try:
        submission = open_submission(args.path)
        if not submission.parts:
            raise SubmissionError(f"nothing of the lab was found in {args.path}: no module or notebook holds "
                                  f"any of {', '.join(submission.lab.part_names)}")
    except SubmissionError as e:
        return not_graded(args, str(e))
    from grader.lanes import Lanes
    from grader.sandbox import Limits
    parts, line = submission.lab.selection(submission.parts, args.tp, args.parts)
    # The lab's slow imports that this code makes: the workers' zygote makes them once, ahead.
    imports = static.imported(submission, submission.lab.worker_imports)
    lanes = Lanes(args.path, submission, parts, args.seed, Limits(call_seconds=args.timeout), zygote, imports)
    try:
        from grader.render import terminal
        for note in submission.notes:
            print(f"grade: note: {inert.terminal(note)}", file=sys.stderr)  # names student files
        if not args.parts and not args.quiet:  # --parts names them outright
            print(f"grade: {line}")
        files = targets(args, submission.name)
        ahead = Ahead(REPORT[name] for name in files)
        try:
            report = lanes.grade(on_result=ahead.add)
        except Exception as e:  # noqa: BLE001 - the contract's exit 2: the grader itself could not run
            ahead.finish()
            return not_graded(args, f"internal error, the submission was not graded: {type(e).__name__}: {e}")
        for note in lanes.weaknesses:
            print(f"grade: note: {note}", file=sys.stderr)
    finally:
        lanes.close()
    drafts = ahead.finish()
    written = write(report, files, drafts)  # the files first: a terminal that goes away must not lose them
    if args.quiet:
        print(terminal.lines(report)[0])
    else:
        terminal.render(report)
        if "html" in written:
            print(f"\nReport: {files['html']}")
    if args.open and "html" in written:
        webbrowser.open(files["html"].resolve().as_uri())
    if len(written) < len(files):
        return 2
    return verdict(report, submission.lab, judge_all=bool(args.tp or args.parts), quiet=args.quiet)


def verdict(report: Report, lab, judge_all: bool, quiet: bool = False) -> int:
    """0 when every check passed, 1 when any did not. Without --tp or --parts, only the
    assignments the student started are judged (a part is started when it is not the
    template as handed out), so a repository is green in TP 1-ab's week; nothing started: 1."""
    if judge_all:
        return 0 if report.all_passed else 1
    graded = [a for a in lab.assignments if any(p.part in a.parts for p in report.parts)]
    begun = [a for a in graded if any(p.started for p in report.parts if p.part in a.parts)]
    if not begun:
        print("grade: nothing is started yet: every part found is the template as handed out "
              "(exit status 1)", file=sys.stderr)
        return 1
    judged = {p for a in begun for p in a.parts}
    code = 0 if all(t.status == "passed" for t in report.tests if t.part in judged) else 1
    if len(begun) < len(graded) and not quiet:
        print(f"grade: the exit status ({code}) judges {titles(begun)} only; "
              f"{titles([a for a in graded if a not in begun])} not started yet")
    return code


def not_graded(args, reason: str) -> int:
    """Exit 2 with the reason in one line, and in the `on_error` files with score 0."""
    print(f"grade: {inert.terminal(reason)}", file=sys.stderr)
    report = Report(submission=submission_name(args.path), seed=args.seed, parts=[], tests=[], error=reason)
    write(report, {name: path for name, path in targets(args, report.submission).items() if REPORT[name].on_error})
    return 2


def targets(args, submission: str) -> dict[str, Path]:
    """Format name -> the file asked for; the HTML report always, by default in reports/."""
    files = {name: Path(getattr(args, name)) for name in REPORT if getattr(args, name, None)}
    files.setdefault("html", Path("reports") / f"{submission}.html")
    return files


def write(report: Report, files: dict[str, Path], drafts: dict | None = None) -> set[str]:
    """Write each file (with what its renderer drew ahead, in `drafts`); one that cannot be
    written is said in one line, the others still are."""
    written, drafts = set(), drafts or {}
    for name, path in files.items():
        options = {"ahead": drafts[name]} if name in drafts else {}
        try:
            REPORT[name].write(path, report, **options)
            written.add(name)
        except OSError as e:
            print(f"grade: cannot write the {name} file {path}: {e.strerror or e}", file=sys.stderr)
    return written


class _CallableModule(types.ModuleType):
    """`from grader import check; check()` in a notebook: this module (the `grade check`
    command) is also the notebook's one call, `grader.inline.check`."""

    def __call__(self, *args, **kwargs):
        from grader.inline import check
        return check(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
