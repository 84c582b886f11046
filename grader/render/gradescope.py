"""Gradescope's autograder `results.json`, so a course on Gradescope can run this grader."""

from __future__ import annotations

import json

from grader.results import Report

HIDDEN = "after_published"  # a hidden check's result, once the instructor publishes the grades


def _output(test) -> str:
    lines = [test.message] if test.message else []
    if test.diagnosis:
        lines.append(f"Likely mistake: {test.diagnosis}")
    if test.same_mistake_as:
        lines.append(f"The same mistake as {test.same_mistake_as}, counted here too.")
    if test.question:
        lines.append(f"Handout: {test.question}")
    if test.output and test.status != "passed":
        lines.append("What your code printed:\n" + test.output.rstrip()[-2000:])
    return "\n".join(lines)


def as_dict(report: Report) -> dict:
    return {
        "score": report.score,
        "execution_time": round(report.seconds, 2),
        "output": report.error
        or "\n".join(
            [f"{report.submission}: {report.score:g} / {report.max_score:g} (seed {report.seed})"]
            + [f"note on {p.part}: {note}" for p in report.parts for note in p.notes]
        ),
        "output_format": "text",
        "visibility": "visible",
        "tests": [
            {
                "name": f"{t.id}: {t.name}",
                "number": t.id,
                "score": t.score,
                "max_score": t.max_score,
                "status": "passed" if t.status == "passed" else "failed",
                "output": _output(t),
                "output_format": "text",
                "tags": [t.part],
                "visibility": HIDDEN if t.hidden else "visible",
            }
            for t in report.tests
        ],
    }


def render(report: Report) -> str:
    return json.dumps(as_dict(report), indent=2, ensure_ascii=False) + "\n"
