"""How fast a large notebook with outputs is read, against a baseline measured in the same run.

    python benchmarks/bench_notebook.py [--mb 6] [--cells 100] [--repeat 5]

Builds a course-style TP 1-ab notebook of about `--mb` MB (about `--cells` cells, plots
kept as base64 PNG outputs) and prints the median time of:
- the baseline: `json.loads` of the same bytes;
- `open_submission` on it in a process that has read a notebook before (warm), and its
  steps: nbformat's read, and turning the code cells into Python;
- `open_submission` in a fresh process (cold: its one-time imports included), against a
  fresh process that only imports the grader.
Target (issue 9): a 6 MB notebook loads in well under a second, cold.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import nbformat  # noqa: E402
from course_notebooks import course_notebook, png_output  # noqa: E402


def build(mb: float, cells: int) -> str:
    """The course notebook, padded with plotting cells to `cells` cells and `mb` MB."""
    nb = nbformat.reads(course_notebook(image_kb=1), as_version=4)
    extra = max(cells - len(nb.cells), 1)
    size = int(mb * (1 << 20) / extra)
    for k in range(extra):
        nb.cells.append(
            nbformat.v4.new_code_cell(
                f"plt.plot(curves[{k % 4}])\nplt.title('run {k}')\nplt.show()",
                outputs=[png_output(size, k)],
            )
        )
    return nbformat.writes(nb)


def median(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


COLD = """
import time, sys
start = time.perf_counter()
from grader.submission import open_submission
imported = time.perf_counter()
{call}
print(imported - start, time.perf_counter() - imported)
"""


def cold(path: Path, call: str, repeat: int) -> tuple[float, float]:
    """Median (import time, call time) in fresh processes."""
    runs = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", COLD.format(call=call)],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
            env={"PYTHONPATH": str(ROOT)},
        ).stdout
        runs.append(tuple(map(float, out.split())))
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=6.0)
    parser.add_argument("--cells", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from grader.submission import open_submission
    from grader.submission.notebook import Notebook

    text = build(args.mb, args.cells)
    data = text.encode()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "1_ab_Intro_to_NNs.ipynb"
        path.write_bytes(data)
        sub = open_submission(path)
        assert list(sub.parts) == ["tp1_manual", "tp1_autograd", "tp1_nn", "tp1_optim"], sub.parts
        baseline = median(lambda: json.loads(data), args.repeat)
        warm = median(lambda: open_submission(path), args.repeat)
        nbformat_read = median(lambda: nbformat.reads(text, as_version=4), args.repeat)
        notebook = median(lambda: Notebook(path.name, data), args.repeat)
        cold_import, cold_open = cold(path, f"open_submission({str(path)!r})", args.repeat)
        _, cold_json = cold(
            path, f"import json; json.loads(open({str(path)!r}, 'rb').read())", args.repeat
        )

    n_cells = len(nbformat.reads(text, as_version=4).cells)
    print(f"notebook: {len(data) / (1 << 20):.1f} MB, {n_cells} cells")
    print(f"baseline: json.loads of the bytes          {baseline * 1000:7.1f} ms")
    print(
        f"open_submission, warm                     {warm * 1000:7.1f} ms  = {warm / baseline:5.1f}x json.loads"
    )
    print(f"  nbformat.reads                          {nbformat_read * 1000:7.1f} ms")
    print(f"  Notebook (read + cells to Python)       {notebook * 1000:7.1f} ms")
    print(f"fresh process: import grader.submission   {cold_import * 1000:7.1f} ms")
    print(
        f"  then open_submission (cold)             {cold_open * 1000:7.1f} ms  "
        f"(json.loads there: {cold_json * 1000:.1f} ms; target: well under 1000 ms)"
    )


if __name__ == "__main__":
    main()
