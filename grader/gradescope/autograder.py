"""What run_autograder runs in Gradescope's container, for each submission: `grade check`'s
grading (`grader.commands.check.run` over `grader.api.grade`, in this process) of
/autograder/submission at the seed of config.json, then results.json as Gradescope reads
it. Gradescope runs it as root, maybe where user namespaces are refused: it grades with the
protections it has and says in `output` which were missing, rather than refuse to grade.

results.json: `score`, `execution_time`, `output` (the total, and missing protections),
`visibility`, `stdout_visibility` (hidden: run_autograder's stdout is for instructors), and
one test per check, `visibility` "visible", or the build's choice for checks marked hidden.
The seed is never written where students see it."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from grader.submission.files import IGNORED_DIRS

RESULTS = "results/results.json"


def submission(folder: Path) -> Path:
    """What `grade check` grades: the zip the student uploaded alone, else the folder."""
    files = [
        p
        for p in folder.rglob("*")
        if p.is_file() and not set(p.relative_to(folder).parts) & IGNORED_DIRS
    ]
    code = [p for p in files if p.suffix in (".py", ".ipynb", ".zip")]
    return code[0] if len(code) == 1 and code[0].suffix == ".zip" else folder


def finish(results: dict, config: dict, missing: list[str], seconds: float) -> dict:
    """Gradescope's results.json from `grade check --gradescope`'s."""
    hidden = set(config.get("hidden", ()))
    for test in results.get("tests", []):
        shown = config["hidden_visibility"] if test.get("number") in hidden else "visible"
        test["visibility"] = shown
    score = results.get("score", 0)
    top = sum(t.get("max_score", 0) for t in results.get("tests", []))
    lines = [f"{score:g} / {top:g} points" if results.get("tests") else results.get("output", "")]
    if missing:
        lines.append("Graded with weak isolation: this container lacks " + "; ".join(missing) + ".")
    results.update(
        {
            "score": score,
            "execution_time": round(seconds, 2),
            "output": "\n".join(lines),
            "visibility": "visible",
            "stdout_visibility": "hidden",
        }
    )
    return results


def grade(root: Path, config: dict) -> dict:
    from grader import api
    from grader.commands import check

    started = time.monotonic()
    options = api.Options(seed=config["seed"], tp=config.get("tp"), timeout=config["timeout"])
    with tempfile.TemporaryDirectory(prefix="autograder-") as tmp:
        gradescope, said = Path(tmp) / "gradescope.json", io.StringIO()
        files = {"gradescope": gradescope, "html": Path(tmp) / "report.html"}
        with contextlib.redirect_stderr(said):
            try:
                code = check.run(str(submission(root / "submission")), options, files, quiet=True)
            except Exception as e:  # noqa: BLE001 - said in the output, score 0 (a LabError too)
                print(f"grade: {type(e).__name__}: {e}", file=sys.stderr)
                code = 2
        print(said.getvalue())  # /autograder/results/stdout: instructors only
        try:
            results = json.loads(gradescope.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            why = (said.getvalue().strip().splitlines() or [f"exit status {code}"])[-1]
            results = {
                "score": 0,
                "tests": [],
                "output": f"The submission could not be graded: {why}",
            }
    from grader.sandbox import isolation

    return finish(results, config, isolation.missing(), time.monotonic() - started)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="run_autograder", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--root",
        default=os.environ.get("AUTOGRADER_ROOT", "/autograder"),
        help="Gradescope's folder: source/, submission/, results/ (default: %(default)s)",
    )
    root = Path(p.parse_args(argv).root)
    config = json.loads((root / "source" / "config.json").read_text(encoding="utf-8"))
    results = grade(root, config)
    (root / "results").mkdir(parents=True, exist_ok=True)
    text = json.dumps(results, indent=2, ensure_ascii=False) + "\n"
    (root / RESULTS).write_text(text, encoding="utf-8")
    print(f"{RESULTS}: {results['score']:g} points")
    return 0


if __name__ == "__main__":
    sys.exit(main())
