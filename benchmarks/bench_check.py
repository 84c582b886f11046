"""How fast `grade check` is, against its floor and a baseline measured in the same run.

    python benchmarks/bench_check.py [--repeat N] [--no-batch]

Prints:
- `grade check reference` and `grade check student_template` as a user runs them, against
  the baseline `python -c "import torch"`, in rounds that interleave the three (a machine
  that speeds up or slows down moves them all); each figure is from its median round;
- per part, the rubric with the sandboxed worker and "bare" (the worker's logic in this
  process, no isolation): the floor of this design, and their ratio, from each test's
  fastest round (one slow second of the machine would otherwise decide it);
- batch throughput: `grade batch --jobs 1` and `--jobs 2` on 24 mixed submissions
  (`bench_batch.make_class`), from the median of as many rounds, with the CPU-seconds the
  whole machine spent on it and the peak memory of the batch's largest process;
- the time to render the reference's HTML report, plots included;
- peak memory of the grading process and of the worker.
Targets (issue 18): reference <= 3.5x the import; template <= 2x; sandboxed/bare <= 1.1;
batch --jobs 2 >= 40 submissions a minute.
"""

from __future__ import annotations

import argparse
import importlib
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def wall(cmd: list[str]) -> float:
    """Wall time of a command, in seconds."""
    with tempfile.TemporaryDirectory() as cwd:
        start = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - start


def median_round(rounds: list[dict], key) -> dict:
    """The round whose `key` is the median: figures of one round, robust to a slow one."""
    return sorted(rounds, key=key)[len(rounds) // 2]


def fastest_per_part(reports) -> dict[str, float]:
    """Per part, the sum of each test's fastest time over `reports` (rounds of one run): on a
    shared machine noise only adds time, and a slow second can land on either side."""
    seconds = [{t.id: t.seconds for t in r.tests} for r in reports]
    return {
        p.part: sum(min(s[t.id] for s in seconds) for t in reports[0].part_tests(p.part))
        for p in reports[0].parts
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--no-batch", action="store_true", help="skip the batch throughput (minutes)"
    )
    args = parser.parse_args()
    repeat = args.repeat

    from grader import static
    from grader.runner import grade
    from grader.sandbox import Limits, Sandbox
    from grader.sandbox.inprocess import InProcessSandbox
    from grader.sandbox.sandboxes import Sandboxes
    from grader.submission import open_submission

    # Rounds interleave the baseline and what is measured against it, so that a machine that
    # speeds up or slows down during the run moves both; each figure is its round's median.
    grade_cmd = [sys.executable, "-m", "grader.cli", "check"]
    rounds = [
        {
            "import": wall([sys.executable, "-c", "import torch"]),
            "reference": wall(grade_cmd + [str(ROOT / "reference")]),
            "template": wall(grade_cmd + [str(ROOT / "student_template")]),
        }
        for _ in range(repeat)
    ]

    # As `grade check` runs them: the worker makes the lab's slow imports that the code makes
    # before its first request; the bare run has them imported too, and torch._dynamo, which
    # the worker's placeholder stands for, so that both time the rubric alone.
    submission = open_submission(ROOT / "reference")
    imports = static.imported(submission, submission.lab.worker_imports)
    for module in (*imports, "torch._dynamo"):
        importlib.import_module(module)
    runs = []
    for _ in range(repeat):
        sandboxed = grade(
            submission,
            sandboxes=Sandboxes(lambda: Sandbox(Limits(), submission.files, imports=imports)),
        )
        bare = grade(submission, sandboxes=Sandboxes(InProcessSandbox))
        assert sandboxed.score == sandboxed.max_score == bare.score, (
            "the reference must keep full marks"
        )
        runs.append((sandboxed, bare))
    worker_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    grader_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    for what, target in (("reference", 3.5), ("template", 2)):
        r = median_round(rounds, lambda r, what=what: r[what] / r["import"])
        name = "reference" if what == "reference" else "student_template"
        print(
            f"grade check {name:<26} {r[what]:6.2f} s  = {r[what] / r['import']:4.1f}x its round's import "
            f"({r['import']:.2f} s; target <= {target:g})"
        )
    imports = [r["import"] for r in rounds]
    print(
        f"baseline: python -c 'import torch', median {statistics.median(imports):.2f} s "
        f"(rounds: {', '.join(f'{t:.2f}' for t in imports)})"
    )
    print()
    print(
        f"{'rubric per part':<22} {'sandboxed':>10} {'bare':>8} {'ratio':>7}   (each test's fastest of {repeat} rounds)"
    )
    s_parts, b_parts = (
        fastest_per_part([s for s, _ in runs]),
        fastest_per_part([b for _, b in runs]),
    )
    for part in s_parts:
        ratio = s_parts[part] / b_parts[part] if b_parts[part] else float("nan")
        print(f"  {part:<20} {s_parts[part]:9.2f}s {b_parts[part]:7.2f}s {ratio:6.2f}x")
    total_s, total_b = sum(s_parts.values()), sum(b_parts.values())
    print(
        f"  {'total':<20} {total_s:9.2f}s {total_b:7.2f}s {total_s / total_b:6.2f}x (target <= 1.1)"
    )
    print(
        f"  whole run (pytest, worker start)  {min(s.seconds for s, _ in runs):6.2f}s  "
        f"bare {min(b.seconds for _, b in runs):6.2f}s (fastest round)"
    )
    print()
    from grader.render import html

    html.render(sandboxed)  # imports matplotlib
    start = time.perf_counter()
    html.render(sandboxed)
    print(
        f"HTML report of the reference ({sum(bool(t.artifacts) for t in sandboxed.tests)} tests with plots): "
        f"{time.perf_counter() - start:.2f} s"
    )
    if not args.no_batch:
        sys.path.insert(0, str(Path(__file__).parent))
        from bench_batch import make_class, time_batch

        with tempfile.TemporaryDirectory() as work:
            (Path(work) / "class").mkdir()
            entries = make_class(Path(work) / "class", 24)
            # Rounds again, each with its own import of torch: how fast the machine is then.
            batches = [
                {
                    "import": wall([sys.executable, "-c", "import torch"]),
                    **{
                        jobs: time_batch(
                            Path(work) / "class", Path(work) / f"out{k}-{jobs}", jobs=jobs
                        )[:2]
                        for jobs in (1, 2)
                    },
                }
                for k in range(repeat)
            ]
            for jobs in (1, 2):
                r = median_round(batches, lambda r, jobs=jobs: r[jobs][0])
                seconds, cpu = r[jobs]
                rates = ", ".join(f"{60 * len(entries) / b[jobs][0]:.1f}" for b in batches)
                print(
                    f"grade batch --jobs {jobs}, {len(entries)} mixed submissions: {seconds:.1f} s = "
                    f"{60 * len(entries) / seconds:.1f} submissions a minute, {cpu:.1f} CPU-seconds of the "
                    f"machine (median round; its import {r['import']:.2f} s; rounds: {rates})"
                    + (" (target >= 40)" if jobs == 2 else "")
                )
        batch_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(
            f"peak memory, the largest process of every run above (batch grading processes, zygotes, workers): {batch_peak:.0f} MiB"
        )
    print(f"peak memory: grading process {grader_peak:7.0f} MiB, worker {worker_peak:7.0f} MiB")


if __name__ == "__main__":
    main()
