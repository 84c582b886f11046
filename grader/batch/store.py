"""OUT, the resumable store: each student's files, written atomically, and a meta file
written last (the commit mark) that says from what content, under what key, they came.

    OUT/results/ID.json              the contract's JSON
    OUT/results/ID.meta.json         digest, the verdict's key (grader.batch.verdict), status
    OUT/results/ID.gradescope.json   always kept: a rerun with --gradescope needs no regrade
    OUT/reports/ID.html              the student's report
    OUT/gradescope/ID.json           with --gradescope (also for a submission not graded)
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from grader.batch import verdict
from grader.batch.atomic import atomic_write
from grader.batch.job import Job, Outcome
from grader.batch.reader import MALFORMED, report_from_json
from grader.results import FAILED, OK, Report


class Store:
    def __init__(self, out: Path):
        self.out = out
        for sub in ("results", "reports"):
            (out / sub).mkdir(parents=True, exist_ok=True)
        for leftover in out.glob("*/.*.tmp"):  # from a run killed while writing
            leftover.unlink(missing_ok=True)

    def paths(self, sid: str) -> dict[str, Path]:
        results = self.out / "results"
        return {
            "result": results / f"{sid}.json",
            "meta": results / f"{sid}.meta.json",
            "kept": results / f"{sid}.gradescope.json",
            "html": self.out / "reports" / f"{sid}.html",
            "gradescope": self.out / "gradescope" / f"{sid}.json",
        }

    def up_to_date(self, job: Job, digest: str, key: dict) -> tuple[Report | None, str]:
        """(the stored report, "") when the stored result was graded from this content under
        this `key` (`grader.batch.verdict`); else (None, why it is graded again). The
        Gradescope file, if now asked for, is then written from what was kept. A stored
        file that is not what this store writes (edited, truncated) is graded again."""
        paths = self.paths(job.id)
        if not paths["meta"].exists():
            return None, "new"
        try:
            meta = json.loads(paths["meta"].read_text(encoding="utf-8"))
            why = (
                "failed to grade last time"
                if meta.get("status") != OK
                else "submission changed"
                if meta.get("digest") != digest
                else verdict.changed(meta.get("key") or {}, key)
                or (
                    "files missing"
                    if not paths["html"].exists() or (job.gradescope and not paths["kept"].exists())
                    else ""
                )
            )
            if why:
                return None, why
            result = json.loads(paths["result"].read_text(encoding="utf-8"))
            report = report_from_json(result, job.seed)
        except (OSError, *MALFORMED):
            return None, "stored files damaged"
        if job.gradescope:
            kept = paths["kept"].read_text(encoding="utf-8")
            if (
                not paths["gradescope"].exists()
                or paths["gradescope"].read_text(encoding="utf-8") != kept
            ):
                atomic_write(paths["gradescope"], kept)
        return report, ""

    def save(self, job: Job, digest: str, outcome: Outcome, key: dict) -> None:
        paths = self.paths(job.id)
        meta = {
            "id": job.id,
            "entry": Path(job.path).name,
            "digest": digest,
            "seed": job.seed,
            "parts": list(job.parts or ()),
            "key": key,
            "status": OK if not outcome.error else FAILED,
            "error": outcome.error,
            "seconds": outcome.seconds,
            "graded": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        stale = (
            ["result", "html"] if outcome.error else []
        )  # no stale result may outlive a failed regrade
        if outcome.gradescope is None:
            stale += ["kept", "gradescope"]
        for name in stale:
            paths[name].unlink(missing_ok=True)
        if outcome.gradescope is not None:
            atomic_write(paths["kept"], outcome.gradescope)
            if job.gradescope:
                atomic_write(paths["gradescope"], outcome.gradescope)
        if not outcome.error:
            if outcome.html is not None:
                atomic_write(paths["html"], outcome.html)
            atomic_write(paths["result"], outcome.result)
        atomic_write(paths["meta"], json.dumps(meta, indent=2) + "\n")
