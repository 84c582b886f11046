"""The contract's JSON answer ("What the grader answers"): a projection of the one
serialisation of a Report (`grader.results.to_dict`), with the scores summed. Artifacts,
outputs and timings stay out of it."""

from __future__ import annotations

import json

from grader.results import Report, to_dict

PART_KEYS = ("part", "found", "score", "max_score", "status", "source", "ignored")
TEST_KEYS = tuple("id part name status score max_score message diagnosis same_mistake_as".split())


def as_dict(report: Report) -> dict:
    plain = to_dict(report)
    parts = [
        dict(
            p,
            **dict(zip(("score", "max_score"), report.part_score(p["part"]), strict=False)),
            status="not found" if not p["found"] else "graded" if p["started"] else "not started",
        )
        for p in plain["parts"]
    ]
    data = {
        "submission": plain["submission"],
        "score": report.score,
        "max_score": report.max_score,
        "seed": plain["seed"],  # a regrade with --seed N gives the same verdicts
        "parts": [
            {**{k: p[k] for k in PART_KEYS}, **({"notes": p["notes"]} if p["notes"] else {})}
            for p in parts
        ],
        "tests": [{k: t[k] for k in TEST_KEYS} for t in plain["tests"]],
        "flags": plain["flags"],  # the cheat report, for the instructor; costs no points
    }
    if report.error:  # not graded at all: say why, beside the score 0
        data["error"] = report.error
    return data


def render(report: Report) -> str:
    return json.dumps(as_dict(report), indent=2, ensure_ascii=False) + "\n"
