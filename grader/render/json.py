"""The contract's JSON answer ("What the grader answers")."""
from __future__ import annotations

import dataclasses
import json
import math

from grader.artifacts import Artifact
from grader.results import Report, TestResult


def as_dict(report: Report) -> dict:
    data = {
        "submission": report.submission,
        "score": report.score,
        "max_score": report.max_score,
        "parts": [{"part": p.part, "found": p.found, "score": report.part_score(p.part)[0],
                   "max_score": report.part_score(p.part)[1]} for p in report.parts],
        "tests": [_test(t) for t in report.tests],
        "flags": report.flags,  # the cheat report, for the instructor; costs no points
    }
    if report.error:  # not graded at all: say why, beside the score 0
        data["error"] = report.error
    return data


def _test(t: TestResult) -> dict:
    data = {"id": t.id, "part": t.part, "name": t.name, "status": t.status, "score": t.score,
            "max_score": t.max_score, "message": t.message, "diagnosis": t.diagnosis}
    if t.artifacts:  # what the report's plots draw, for a report rebuilt from this file
        data["artifacts"] = [_artifact(a) for a in t.artifacts]
    return data


def _artifact(artifact: Artifact) -> dict:
    """An artifact's fields and its kind; a number that is not finite (a diverged run) as
    null, which JSON can hold and the plots draw as the same gap."""
    return {"kind": artifact.kind, **_finite(dataclasses.asdict(artifact))}


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def render(report: Report) -> str:
    return json.dumps(as_dict(report), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
