"""The results model back from the contract's JSON (what a job returns, what OUT keeps)."""
from __future__ import annotations

from grader.results import PartResult, Report, TestResult

# What reading back a JSON that is not the grader's (damaged, edited) raises, here or in json.loads.
MALFORMED = (ValueError, KeyError, TypeError, AttributeError)


def report_from_json(data: dict, seed: int) -> Report:
    tests = [TestResult(id=t["id"], part=t["part"], name=t.get("name", ""), status=t["status"],
                        score=float(t["score"]), max_score=float(t["max_score"]),
                        message=t.get("message") or "", diagnosis=t.get("diagnosis"))
             for t in data["tests"]]
    parts = [PartResult(part=p["part"], found=bool(p["found"])) for p in data["parts"]]
    return Report(submission=data.get("submission", ""), seed=seed, parts=parts, tests=tests,
                  flags=[f for f in data.get("flags", []) if isinstance(f, dict)])
