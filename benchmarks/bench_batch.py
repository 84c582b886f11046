"""Submissions graded a minute: `grade batch --jobs 2` against `grade check` run one
after the other, on the same 24 mixed submissions, in the same run.

    python benchmarks/bench_batch.py [--n 24] [--jobs 2] [--parts PART ...] [--keep DIR]

The class mixes the reference (as a folder and as a zip), the student template, a
partial submission, submissions with one classic mistake, a folder whose TP 1-ab
notebook is the template's, a broken zip and a notebook that is not JSON. It takes
minutes; CI does not run it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.labs.rdfia import LAB  # noqa: E402

REFERENCE, TEMPLATE = ROOT / "reference", ROOT / "student_template"
MODULES = [f"{p}.py" for p in LAB.part_names]


def _copy_modules(src: Path, dest: Path, names=MODULES) -> None:
    dest.mkdir(parents=True)
    for name in names:
        if (src / name).exists():
            shutil.copy(src / name, dest / name)


def _mutated(dest: Path) -> None:
    """The reference with one classic mistake per TP 1-ab file it can find (a sign error)."""
    _copy_modules(REFERENCE, dest)
    for path in dest.glob("tp1_*.py"):
        text = path.read_text()
        for old, new in (("] - eta * grads[", "] + eta * grads["), ("-= eta *", "+= eta *")):
            if old in text:
                path.write_text(text.replace(old, new, 1))
                break


def make_class(root: Path, n: int) -> list[Path]:
    kinds = ["reference", "template", "partial", "mutated", "zip", "broken", "notebook", "notjson"]
    made = []
    for k in range(n):
        kind = kinds[k % len(kinds)]
        sid = f"s{k:02d}_{kind}"
        if kind == "reference":
            _copy_modules(REFERENCE, root / sid)
        elif kind == "template":
            _copy_modules(TEMPLATE, root / sid)
        elif kind == "partial":
            _copy_modules(REFERENCE, root / sid, ["tp1_manual.py", "answers.py"])
        elif kind == "mutated":
            _mutated(root / sid)
        elif kind == "zip":
            with zipfile.ZipFile(root / f"{sid}.zip", "w") as z:
                for name in MODULES:
                    if (REFERENCE / name).exists():
                        z.write(REFERENCE / name, f"{sid}/{name}")
            made.append(root / f"{sid}.zip")
            continue
        elif kind == "broken":
            (root / f"{sid}.zip").write_bytes(b"PK\x03\x04 truncated")
            made.append(root / f"{sid}.zip")
            continue
        elif kind == "notebook":
            notebooks = (
                sorted((TEMPLATE / "notebooks").glob("*.ipynb"))
                if (TEMPLATE / "notebooks").is_dir()
                else []
            )
            (root / sid).mkdir()
            for nb in notebooks:
                shutil.copy(nb, root / sid / nb.name)
            if not notebooks:
                shutil.copy(TEMPLATE / "answers.py", root / sid / "answers.py")
        elif kind == "notjson":
            (root / f"{sid}.ipynb").write_text("{not json")
            made.append(root / f"{sid}.ipynb")
            continue
        made.append(root / sid)
    return made


def machine_busy() -> float:
    """CPU-seconds the whole machine has been busy since it started (Linux's /proc/stat), or
    NaN: a batch's workers are not this process's children, so no rusage counts them all."""
    try:
        with open("/proc/stat") as f:
            user, nice, system, _idle, _iowait, irq, softirq = map(int, f.readline().split()[1:8])
    except (OSError, ValueError):
        return math.nan
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def check_score(result: Path) -> float | None:
    """The score `grade check` wrote, or None when it could not grade (its result names the error)."""
    if not result.exists():
        return None
    result = json.loads(result.read_text())
    return None if "error" in result else result["score"]


def batch_score(out: Path, sid: str) -> float | None:
    """The score `grade batch` wrote for `sid`, or None when it could not grade it (no result)."""
    result = out / "results" / f"{sid}.json"
    return json.loads(result.read_text())["score"] if result.exists() else None


def time_batch(
    class_dir: Path, out: Path, jobs: int, parts=LAB.part_names
) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall time of `grade batch` on `class_dir`, and the CPU-seconds of the whole machine
    meanwhile: a steadier figure than the wall time on a machine whose speed drifts."""
    started, busy = time.monotonic(), machine_busy()
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader.cli",
            "batch",
            str(class_dir),
            "--out",
            str(out),
            "--jobs",
            str(jobs),
            "--parts",
            *parts,
        ],
        capture_output=True,
        text=True,
    )
    return time.monotonic() - started, machine_busy() - busy, run


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=24)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--parts", nargs="+", choices=LAB.part_names, default=list(LAB.part_names))
    p.add_argument("--keep", metavar="DIR", help="keep the class and the outputs here")
    args = p.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-batch-"))
    if work.exists() and args.keep:
        shutil.rmtree(work)
    class_dir = work / "class"
    class_dir.mkdir(parents=True)
    entries = make_class(class_dir, args.n)
    parts = ["--parts", *args.parts]
    print(f"{len(entries)} submissions, parts: {' '.join(args.parts)}", flush=True)

    started = time.monotonic()
    serial = {}
    for entry in entries:
        out = work / "serial" / entry.name
        out.mkdir(parents=True)
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "grader.cli",
                "check",
                str(entry),
                "--json",
                str(out / "r.json"),
                "--html",
                str(out / "r.html"),
                *parts,
            ],
            cwd=out,
            capture_output=True,
            text=True,
        )
        serial[entry.name] = run.returncode
    serial_seconds = time.monotonic() - started

    batch_seconds, batch_cpu, batch = time_batch(class_dir, work / "batch", args.jobs, args.parts)

    same = 0
    for entry in entries:
        sid = entry.name.removesuffix(".zip").removesuffix(".ipynb")
        same += batch_score(work / "batch", sid) == check_score(
            work / "serial" / entry.name / "r.json"
        )
    per_minute = lambda seconds: 60 * len(entries) / seconds  # noqa: E731
    print(
        f"grade check, one after the other: {serial_seconds:7.1f} s "
        f"{per_minute(serial_seconds):6.1f} submissions/min"
    )
    print(
        f"grade batch --jobs {args.jobs}:             {batch_seconds:7.1f} s "
        f"{per_minute(batch_seconds):6.1f} submissions/min"
        f"  (x{serial_seconds / batch_seconds:.2f}; {batch_cpu:.1f} CPU-seconds of the machine; "
        f"batch exit status {batch.returncode})"
    )
    print(f"same verdict for {same} of {len(entries)} submissions")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if same == len(entries) else 1


if __name__ == "__main__":
    sys.exit(main())
