"""The contract's JSON answer ("What the grader answers")."""
from __future__ import annotations

import json

from grader.results import Report


def as_dict(report: Report) -> dict:
    data = {
        "submission": report.submission,
        "score": report.score,
        "max_score": report.max_score,
        "parts": [{"part": p.part, "found": p.found, "score": report.part_score(p.part)[0],
                   "max_score": report.part_score(p.part)[1],
                   "status": "not found" if not p.found else "graded" if p.started else "not started",
                   "source": p.source, "ignored": p.ignored, **({"notes": p.notes} if p.notes else {})}
                  for p in report.parts],
        "tests": [{"id": t.id, "part": t.part, "name": t.name, "status": t.status,
                   "score": t.score, "max_score": t.max_score, "message": t.message,
                   "diagnosis": t.diagnosis, "same_mistake_as": t.same_mistake_as} for t in report.tests],
        "flags": report.flags,  # the cheat report, for the instructor; costs no points
    }
    if report.error:  # not graded at all: say why, beside the score 0
        data["error"] = report.error
    return data


def render(report: Report) -> str:
    return json.dumps(as_dict(report), indent=2, ensure_ascii=False) + "\n"
