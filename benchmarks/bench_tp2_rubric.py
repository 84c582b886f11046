"""Wall time of the TP 1-cd (`tp2_cnn`) rubric on the reference and on the course's own
`1_cd_CNNs.ipynb` filled in (judged through its `get_dataset` loaders and two epochs of its
`main`), against baselines measured in the same run (issues 5 and 15: at most 20 s each on
this machine's 2 cores).

    python benchmarks/bench_tp2_rubric.py [--repeat N] [--seed S]

Baselines: `python -c "import torch"` (what any worker pays to start) and the start
of a sandboxed worker that loads the reference and answers one call. The figures
depend on the machine's load: run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT_SECONDS = 20.0


def import_torch() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch"], check=True)
    return time.perf_counter() - started


def worker_start(folder: Path) -> float:
    from grader.sandbox import Part, Sandbox
    from grader.submission import open_submission

    started = time.perf_counter()
    sandbox = Sandbox()
    try:
        chunks = open_submission(folder).parts["tp2_cnn"]
        loaded = sandbox.load("tp2_cnn", [{"origin": c.origin, "code": c.code} for c in chunks])
        Part(sandbox, "tp2_cnn", 0, loaded).get("ConvNet")
    finally:
        sandbox.close()
    return time.perf_counter() - started


def rubric(folder: Path, seed: int) -> tuple[float, float, float]:
    """Seconds, score and maximum of one grade of the folder's tp2_cnn."""
    from grader.runner import grade
    from grader.submission import open_submission

    started = time.perf_counter()
    report = grade(open_submission(folder), seed=seed, parts=("tp2_cnn",))
    seconds = time.perf_counter() - started
    for test in report.tests:
        if test.status != "passed":
            print(
                f"warning: {test.id} {test.status} on {folder.name}: {test.message[:300]}",
                file=sys.stderr,
            )
    return seconds, report.score, report.max_score


def main() -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--repeat", type=int, default=3)
    args.add_argument("--seed", type=int, default=0)
    opts = args.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    import course_notebooks  # the grader's test corpus: the course's notebook as students fill it in

    with tempfile.TemporaryDirectory() as tmp:
        folders = {
            "reference": ("tp2_cnn.py", (ROOT / "reference" / "tp2_cnn.py").read_text()),
            "1_cd_CNNs": ("1_cd_CNNs.ipynb", course_notebooks.cnn_notebook()),
        }
        for name, (file, text) in folders.items():
            (Path(tmp) / name).mkdir()
            (Path(tmp) / name / file).write_text(text)
        rubrics = [f"tp2_cnn rubric, {name}" for name in folders]
        rows = {
            "python -c 'import torch'": [],
            "worker start + load": [],
            **{r: [] for r in rubrics},
        }
        for _ in range(opts.repeat):
            rows["python -c 'import torch'"].append(import_torch())
            rows["worker start + load"].append(worker_start(Path(tmp) / "reference"))
            for row, name in zip(rubrics, folders, strict=True):
                seconds, score, max_score = rubric(Path(tmp) / name, opts.seed)
                rows[row].append(seconds)
                if score != max_score:
                    print(f"warning: {name} scored {score}/{max_score}", file=sys.stderr)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"{os.cpu_count()} cores, load average {load:.2f} (1 min); {opts.repeat} runs each, seconds"
    )
    print(f"{'':36} {'median':>8} {'min':>8} {'max':>8}")
    for name, values in rows.items():
        print(f"{name:36} {statistics.median(values):8.2f} {min(values):8.2f} {max(values):8.2f}")
    base = statistics.median(rows["python -c 'import torch'"])
    within = True
    for row in rubrics:
        best = min(rows[row])
        within &= best <= LIMIT_SECONDS
        print(
            f"{row}: {statistics.median(rows[row]):.2f} s median, {best:.2f} s best "
            f"= {best / base:.1f} × importing torch; limit {LIMIT_SECONDS:g} s: "
            f"{'within' if best <= LIMIT_SECONDS else 'OVER'}"
        )
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
