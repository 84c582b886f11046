"""`grade check PATH`: grade one submission and write what was asked for.

Exit status (the contract's "What the grader answers"): 0 when every check passed, 1 when
any did not, 2 when the grader could not run or a file could not be written; each
reason in one line. A submission that cannot be graded still gets the `on_error` files
(JSON, JUnit, Gradescope) with score 0 and the reason, so that a platform shows it.
"""

from __future__ import annotations

import sys
import webbrowser
from pathlib import Path

from grader import api
from grader.lab import titles
from grader.render import REPORT, Ahead, inert
from grader.results import Report
from grader.submission import submission_name


def main(args, zygote=None) -> int:
    """`grade check` with its parsed arguments. `zygote`: forks the workers (`grade batch`'s
    long-lived grading processes)."""
    parts = tuple(args.parts) if args.parts else None
    options = api.Options(seed=args.seed, tp=args.tp, parts=parts, timeout=args.timeout)
    asked = {name: Path(getattr(args, name)) for name in REPORT if getattr(args, name, None)}
    return run(args.path, options, asked, quiet=args.quiet, show=args.open, zygote=zygote)


class Shown(api.Progress):
    """What `grade check` says while it grades; the renderers draw ahead as results come."""

    def __init__(self, asked: dict[str, Path], quiet: bool, selection: bool):
        self.asked, self.quiet, self.selection = asked, quiet, selection
        self.lab, self.ahead, self.files = None, None, {}

    def started(self, submission, selection: str) -> None:
        self.lab = submission.lab
        for note in submission.notes:
            print(f"grade: note: {inert.terminal(note)}", file=sys.stderr)  # names student files
        if self.selection and not self.quiet:
            print(f"grade: {selection}")
        self.files = targets(self.asked, submission.name)
        self.ahead = Ahead(REPORT[name] for name in self.files)

    def result(self, result) -> None:
        self.ahead.add(result)

    def weaknesses(self, missing: list[str]) -> None:
        for note in missing:
            print(f"grade: note: {note}", file=sys.stderr)


def run(
    path,
    options: api.Options,
    asked: dict[str, Path],
    quiet: bool = False,
    show: bool = False,
    zygote=None,
) -> int:
    """Grade `path` and write the files `asked` (format name -> path; the HTML report always);
    the exit status of `grade check`."""
    shown = Shown(asked, quiet, selection=not options.parts)  # --parts names them outright
    try:
        report = api.grade(path, options, shown, zygote)
    except api.NotGraded as e:
        if shown.ahead is not None:
            shown.ahead.finish()
        return not_graded(path, options.seed, asked, str(e))
    from grader.render import terminal

    files = shown.files
    drafts = shown.ahead.finish()
    written = write(
        report, files, drafts
    )  # the files first: a terminal that goes away must not lose them
    if quiet:
        print(terminal.lines(report)[0])
    else:
        terminal.render(report)
        if "html" in written:
            print(f"\nReport: {files['html']}")
    if show and "html" in written:
        webbrowser.open(files["html"].resolve().as_uri())
    if len(written) < len(files):
        return 2
    return verdict(report, shown.lab, judge_all=options.judges_all, quiet=quiet)


def verdict(report: Report, lab, judge_all: bool, quiet: bool = False) -> int:
    """0 when every check passed, 1 when any did not. Without --tp or --parts, only the
    assignments the student started are judged (a part is started when it is not the
    template as handed out), so a repository is green in TP 1-ab's week; nothing started: 1."""
    if judge_all:
        return 0 if report.all_passed else 1
    graded = [a for a in lab.assignments if any(p.part in a.parts for p in report.parts)]
    begun = [a for a in graded if any(p.started for p in report.parts if p.part in a.parts)]
    if not begun:
        print(
            "grade: nothing is started yet: every part found is the template as handed out "
            "(exit status 1)",
            file=sys.stderr,
        )
        return 1
    judged = {p for a in begun for p in a.parts}
    code = 0 if all(t.status == "passed" for t in report.tests if t.part in judged) else 1
    if len(begun) < len(graded) and not quiet:
        print(
            f"grade: the exit status ({code}) judges {titles(begun)} only; "
            f"{titles([a for a in graded if a not in begun])} not started yet"
        )
    return code


def not_graded(path, seed: int | None, asked: dict[str, Path], reason: str) -> int:
    """Exit 2 with the reason in one line, and in the `on_error` files with score 0."""
    print(f"grade: {inert.terminal(reason)}", file=sys.stderr)
    report = Report(submission=submission_name(path), seed=seed, parts=[], tests=[], error=reason)
    write(
        report,
        {name: p for name, p in targets(asked, report.submission).items() if REPORT[name].on_error},
    )
    return 2


def targets(asked: dict[str, Path], submission: str) -> dict[str, Path]:
    """Format name -> the file asked for; the HTML report always, by default in reports/."""
    return {**asked, "html": asked.get("html", Path("reports") / f"{submission}.html")}


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
