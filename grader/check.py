"""`grade check PATH`: grade one submission and write what was asked for."""
from __future__ import annotations

import sys
from pathlib import Path

from grader.submission import SubmissionError, open_submission


def main(args) -> int:
    try:
        submission = open_submission(args.path)
    except SubmissionError as e:
        print(f"grade: {e}", file=sys.stderr)
        return 2
    from grader.sandbox import Limits, Sandbox
    sandbox = Sandbox(Limits(call_seconds=args.timeout), submission.files)
    sandbox.start()  # the worker imports torch while this process imports it too
    # Imported only now: torch takes seconds to load, and a bad path should fail at once.
    from grader.render import gradescope, html, junit
    from grader.render import json as json_render
    from grader.render import terminal
    from grader.runner import grade
    for note in submission.notes:
        print(f"grade: note: {note}", file=sys.stderr)
    parts, line = submission.lab.selection(submission.parts, args.tp, args.parts)
    if not args.parts:  # --parts names them outright
        print(f"grade: {line}")
    try:
        report = grade(submission, seed=args.seed, parts=parts, sandbox=sandbox)
    except Exception as e:  # noqa: BLE001 - the contract's exit 2: the grader itself could not run
        print(f"grade: internal error, the submission was not graded: {type(e).__name__}: {e}", file=sys.stderr)
        return 2
    report_path = Path(args.html or Path("reports") / f"{submission.name}.html")
    for renderer, target in ((html, report_path), (json_render, args.json), (junit, args.junit),
                             (gradescope, args.gradescope)):
        if target:  # the files first: a terminal that goes away must not lose them
            renderer.write(report, Path(target))
    terminal.render(report)
    print(f"\nReport: {report_path}")
    return 0 if report.all_passed else 1
