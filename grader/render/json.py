"""The contract's JSON answer ("What the grader answers")."""
from __future__ import annotations

import json
from pathlib import Path

from grader.results import Report


def as_dict(report: Report) -> dict:
    return {
        "submission": report.submission,
        "score": report.score,
        "max_score": report.max_score,
        "parts": [{"part": p.part, "found": p.found, "score": report.part_score(p.part)[0],
                   "max_score": report.part_score(p.part)[1]} for p in report.parts],
        "tests": [{"id": t.id, "part": t.part, "name": t.name, "status": t.status,
                   "score": t.score, "max_score": t.max_score, "message": t.message,
                   "diagnosis": t.diagnosis} for t in report.tests],
        "flags": report.flags,  # the cheat report, for the instructor; costs no points
    }


def write(report: Report, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(as_dict(report), indent=2, ensure_ascii=False) + "\n")
