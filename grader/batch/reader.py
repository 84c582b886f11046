"""The results model back from the contract's JSON (what a job returns, what OUT keeps)."""
from __future__ import annotations

from grader.artifacts import KINDS, Artifact
from grader.results import PartResult, Report, TestResult


def report_from_json(data: dict, seed: int) -> Report:
    tests = [TestResult(id=t["id"], part=t["part"], name=t.get("name", ""), status=t["status"],
                        score=float(t["score"]), max_score=float(t["max_score"]),
                        message=t.get("message") or "", diagnosis=t.get("diagnosis"),
                        artifacts=[_artifact(a) for a in t.get("artifacts", [])])
             for t in data["tests"]]
    parts = [PartResult(part=p["part"], found=bool(p["found"])) for p in data["parts"]]
    return Report(submission=data.get("submission", ""), seed=seed, parts=parts, tests=tests,
                  flags=[f for f in data.get("flags", []) if isinstance(f, dict)])


def _artifact(data: dict) -> Artifact:
    """The typed artifact that `grader.render.json` wrote; ValueError or TypeError when it is not one."""
    fields = dict(data)
    kind = fields.pop("kind", None)
    if kind not in KINDS:
        raise ValueError(f"an artifact of unknown kind {kind!r}")
    return KINDS[kind](**fields)
